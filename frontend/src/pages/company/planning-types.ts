// The shapes the Projects and Goals pages read (shared/src/types/project.rs, company.rs Goal),
// their status colours, and the env rows the project editor works with.
import type { Tone } from "../../components/ui";

/** shared/src/enums.rs ProjectStatus. */
export const PROJECT_STATUSES = ["backlog", "planned", "in_progress", "completed", "cancelled"] as const;
export type ProjectStatus = (typeof PROJECT_STATUSES)[number];

export const GOAL_LEVELS = ["company", "team", "agent", "task"] as const;
export type GoalLevel = (typeof GOAL_LEVELS)[number];
export const GOAL_STATUSES = ["planned", "active", "achieved", "cancelled"] as const;
export type GoalStatus = (typeof GOAL_STATUSES)[number];

/** A binding as the server shows it: a bare string, a plain value, or a secret reference. */
export type EnvBinding = string | { type: "plain"; value: string } | { type: "secret_ref"; secretId: string; version: "latest" | number };

export interface Project {
  id: string;
  companyId: string;
  goalId: string | null;
  name: string;
  description: string | null;
  status: ProjectStatus;
  leadAgentId: string | null;
  /** `YYYY-MM-DD`. */
  targetDate: string | null;
  color: string | null;
  env: Record<string, EnvBinding>;
  archivedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface PlanGoal {
  id: string;
  companyId: string;
  title: string;
  description: string | null;
  level: GoalLevel;
  status: GoalStatus;
  parentId: string | null;
  ownerAgentId: string | null;
  createdAt: string;
  updatedAt: string;
}

export function projectTone(status: string): Tone {
  switch (status) {
    case "in_progress":
      return "info";
    case "completed":
      return "good";
    case "planned":
      return "warn";
    default:
      return "neutral";
  }
}

export function goalTone(status: string): Tone {
  switch (status) {
    case "active":
      return "info";
    case "achieved":
      return "good";
    default:
      return "neutral";
  }
}

/** What reads show in place of a credential-shaped plain value (shared/src/env.rs); the server
 * refuses to store it, so the editor never sends it back. */
export const REDACTED = "***REDACTED***";
/** The by-name shorthand for a reference the server accepts: `"$secret:<name>"`. */
export const SECRET_BY_NAME = "$secret:";

/** One variable in the editor. `hidden`: a plain value the server would not show, untouched. */
export interface EnvRow {
  key: string;
  kind: "plain" | "secret";
  value: string;
  secretId: string;
  version: "latest" | number;
  hidden: boolean;
}

export function envRows(env: Record<string, EnvBinding> | null | undefined): EnvRow[] {
  return Object.entries(env ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, b]) => {
      const row: EnvRow = { key, kind: "plain", value: "", secretId: "", version: "latest", hidden: false };
      if (typeof b === "string") row.value = b;
      else if (b && b.type === "secret_ref") {
        row.kind = "secret";
        row.secretId = b.secretId;
        row.version = b.version;
      } else if (b && b.type === "plain") row.value = b.value;
      if (row.kind === "plain" && row.value === REDACTED) {
        row.value = "";
        row.hidden = true;
      }
      return row;
    });
}

/** The binding a row sends: `"$secret:name"` typed as a value goes as the bare shorthand. */
export function bindingOf(row: EnvRow): EnvBinding {
  if (row.kind === "secret") return { type: "secret_ref", secretId: row.secretId, version: row.version };
  if (row.value.startsWith(SECRET_BY_NAME)) return row.value;
  return { type: "plain", value: row.value };
}
