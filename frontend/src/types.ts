// The shapes the UI reads, as the server answers them (camelCase JSON; see ../shared/API.md).

export interface Health {
  status: string;
  version?: string;
  deploymentMode: "local_trusted" | "authenticated";
  deploymentExposure: "private" | "public";
  authReady?: boolean;
  bootstrapStatus: "ready" | "bootstrap_pending";
  bootstrapInviteActive: boolean;
}

export interface User {
  id: string;
  email: string | null;
  name: string;
}

export interface Session {
  session: { id: string; userId: string };
  user: User;
}

export interface Company {
  id: string;
  name: string;
  description: string | null;
  status: "active" | "paused" | "archived";
  issuePrefix: string;
  budgetMonthlyCents: number;
  spentMonthlyCents: number;
  createdAt: string;
  updatedAt: string;
}

export interface BoardApiKey {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  expiresAt: string | null;
}
