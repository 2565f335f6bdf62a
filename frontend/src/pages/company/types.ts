// The shapes the company pages read (shared/src/types/*.rs, camelCase), the enum values the
// server accepts, and the colour each status reads in.
import { ApiError } from "../../api";
import type { Tone } from "../../components/ui";

export const ISSUE_STATUSES = ["backlog", "todo", "in_progress", "in_review", "done", "blocked", "cancelled"] as const;
export type IssueStatus = (typeof ISSUE_STATUSES)[number];

export const PRIORITIES = ["critical", "high", "medium", "low"] as const;
export type IssuePriority = (typeof PRIORITIES)[number];

export const ROLES = [
  "general",
  "ceo",
  "cto",
  "cmo",
  "cfo",
  "security",
  "engineer",
  "designer",
  "pm",
  "qa",
  "devops",
  "researcher",
] as const;
export type AgentRole = (typeof ROLES)[number];

/** shared/src/enums.rs SUPPORTED_ADAPTER_TYPES: another one is a 422. */
export const ADAPTER_TYPES = ["process", "http", "claude_local", "codex_local"] as const;

export type AgentStatus = "active" | "paused" | "idle" | "running" | "error" | "pending_approval" | "terminated";

export interface Agent {
  id: string;
  companyId: string;
  name: string;
  role: AgentRole;
  title: string | null;
  status: AgentStatus;
  reportsTo: string | null;
  adapterType: string;
  budgetMonthlyCents: number;
  spentMonthlyCents: number;
  pauseReason: string | null;
  pausedAt: string | null;
  lastHeartbeatAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Issue {
  id: string;
  companyId: string;
  projectId: string | null;
  goalId: string | null;
  parentId: string | null;
  title: string;
  description: string | null;
  status: IssueStatus;
  priority: IssuePriority;
  assigneeAgentId: string | null;
  assigneeUserId: string | null;
  identifier: string;
  startedAt: string | null;
  completedAt: string | null;
  cancelledAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A short reference to another issue (ancestors, blockers). */
export interface IssueRef {
  id: string;
  identifier: string;
  title: string;
  status: IssueStatus;
  priority: IssuePriority;
}

export interface Goal {
  id: string;
  title: string;
  description: string | null;
  level: "company" | "team" | "agent" | "task";
  status: string;
}

/** GET /issues/:id: the issue with its context. */
export interface IssueDetail extends Issue {
  ancestors: IssueRef[];
  project: { id: string; name: string } | null;
  goal: Goal | null;
  blockedBy: IssueRef[];
  blocks: IssueRef[];
}

export interface Comment {
  id: string;
  issueId: string;
  authorAgentId: string | null;
  authorUserId: string | null;
  body: string;
  createdAt: string;
}

export interface ActivityEntry {
  id: string;
  actorType: "agent" | "user" | "system";
  actorId: string;
  action: string;
  entityType: string;
  entityId: string;
  agentId: string | null;
  details: Record<string, unknown> | null;
  createdAt: string;
}

export interface Dashboard {
  companyId: string;
  agents: { active: number; running: number; paused: number; error: number };
  tasks: { open: number; inProgress: number; blocked: number; done: number };
  costs: {
    monthSpendCents: number;
    monthBudgetCents: number;
    monthUtilizationPercent: number;
    monthReportedCents: number;
    monthEstimatedCents: number;
  };
  pendingApprovals: number;
  staleTasks: number;
  agentsByStatus: Record<string, number>;
  issuesByStatus: Record<string, number>;
  pausedAgents: { agentId: string; name: string; reason: string; pausedAt: string | null; until: string | null; lift: string }[];
  breakers: { agentId: string; reason: string; until: string | null; createdAt: string }[];
}


export function issueTone(status: string): Tone {
  switch (status) {
    case "in_progress":
    case "in_review":
      return "info";
    case "done":
      return "good";
    case "blocked":
      return "bad";
    case "todo":
      return "warn";
    default:
      return "neutral";
  }
}

export function agentTone(status: string): Tone {
  switch (status) {
    case "active":
    case "idle":
      return "good";
    case "running":
      return "info";
    case "paused":
    case "pending_approval":
      return "warn";
    case "error":
      return "bad";
    default:
      return "neutral";
  }
}

export function companyTone(status: string): Tone {
  return status === "active" ? "good" : status === "paused" ? "warn" : "neutral";
}

/** "in_progress" → "in progress": enum values as words. */
export function words(value: string): string {
  return value.replace(/_/g, " ");
}

/** Spend against a budget; a budget of 0 means none. */
export function spend(spent: number, budget: number, money: (c: number) => string): string {
  return budget > 0 ? `${money(spent)} / ${money(budget)}` : `${money(spent)} · no budget`;
}

/** A loader that answers null for a 404 (unknown, or another company's, object), so the page
 * can say "not found" instead of showing an error sentence. */
export async function orNotFound<T>(load: Promise<T>): Promise<T | null> {
  try {
    return await load;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

/** Dollars typed in a form ("12.50") as cents, or undefined when left empty. */
export function centsOf(dollars: string): number | undefined {
  const t = dollars.trim();
  if (!t) return undefined;
  const n = Number(t);
  return Number.isFinite(n) && n >= 0 ? Math.round(n * 100) : undefined;
}
