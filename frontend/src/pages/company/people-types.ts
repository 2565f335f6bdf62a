// The shapes the Secrets and Members pages read (server/src/api/secrets.rs, members.rs and
// access.rs, camelCase), the values the server accepts, and the colour each state reads in.
import type { Tone } from "../../components/ui";

export type SecretStatus = "active" | "disabled" | "archived";

/** A company secret as every answer gives it: never its value. */
export interface Secret {
  id: string;
  companyId: string;
  key: string;
  name: string;
  provider: string;
  status: SecretStatus;
  latestVersion: number;
  description: string | null;
  lastRotatedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** GET /companies/:id/secrets adds how many of the company's agents name each secret. */
export interface ListedSecret extends Secret {
  referenceCount: number;
}

/** shared/src/enums.rs MemberRole, most powerful first. */
export const MEMBER_ROLES = ["owner", "admin", "operator", "viewer"] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

export type MembershipStatus = "pending" | "active" | "suspended" | "archived";

export interface Member {
  /** `<companyId>:<userId>`: what the member routes take as `:memberId`. */
  id: string;
  companyId: string;
  principalId: string;
  status: MembershipStatus;
  membershipRole: MemberRole;
  createdAt: string;
  updatedAt: string;
  user: { id: string; email: string | null; name: string };
}

export type InviteState = "active" | "accepted" | "expired" | "revoked";

export interface Invite {
  id: string;
  companyId: string | null;
  humanRole: MemberRole | null;
  invitedByUserId: string | null;
  expiresAt: string;
  revokedAt: string | null;
  acceptedAt: string | null;
  state: InviteState;
  createdAt: string;
}

/** POST /companies/:id/invites: the only answer that carries the token. */
export interface CreatedInvite extends Invite {
  token: string;
  inviteUrl: string;
}


export function secretTone(status: SecretStatus): Tone {
  return status === "active" ? "good" : status === "disabled" ? "warn" : "neutral";
}

export function memberTone(status: MembershipStatus): Tone {
  return status === "active" ? "good" : status === "suspended" ? "bad" : status === "pending" ? "warn" : "neutral";
}

export function inviteTone(state: InviteState): Tone {
  switch (state) {
    case "active":
      return "info";
    case "accepted":
      return "good";
    case "revoked":
      return "bad";
    default:
      return "neutral";
  }
}

/** What each role may do (README "Companies and roles"), for the role pickers' labels. */
export const ROLE_MEANING: Record<MemberRole, string> = {
  owner: "manages members",
  admin: "invites people",
  operator: "works",
  viewer: "reads only",
};
