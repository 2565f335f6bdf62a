// The shapes the approvals and costs pages read (server/src/domain/approvals/mod.rs
// approval_json and comment_json, domain/costs.rs CostSummary and CostLine), and how they read.
import type { Tone } from "../../components/ui";

export const APPROVAL_STATUSES = ["pending", "revision_requested", "approved", "rejected", "cancelled"] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

export interface Approval {
  id: string;
  companyId: string;
  type: string;
  requestedByAgentId: string | null;
  requestedByUserId: string | null;
  status: ApprovalStatus;
  /** What is asked, as the type needs it; a hire's describes the agent (with its `agentId`). */
  payload: Record<string, unknown>;
  decisionNote: string | null;
  decidedByUserId: string | null;
  decidedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ApprovalComment {
  id: string;
  approvalId: string;
  authorAgentId: string | null;
  authorUserId: string | null;
  body: string;
  createdAt: string;
}

/** The four kinds of approval, as the board reads them. */
const TYPE_WORDS: Record<string, string> = {
  hire_agent: "Hire an agent",
  approve_ceo_strategy: "Approve the CEO's strategy",
  request_board_approval: "Board approval requested",
  budget_override_required: "Budget override",
};

export function approvalType(type: string): string {
  return TYPE_WORDS[type] ?? type.replace(/_/g, " ");
}


export function approvalTone(status: string): Tone {
  switch (status) {
    case "pending":
      return "warn";
    case "revision_requested":
      return "info";
    case "approved":
      return "good";
    case "rejected":
      return "bad";
    default:
      return "neutral";
  }
}

/** Only these can still be decided (domain/approvals OPEN); revision is asked of pending ones. */
export function isOpen(status: string): boolean {
  return status === "pending" || status === "revision_requested";
}

/** GET /companies/:id/costs/summary: one month (or a from/to range) of the company. */
export interface CostSummary {
  companyId: string;
  month: string | null;
  /** Reported and estimated together: what the budget counts. */
  spendCents: number;
  reportedCents: number;
  estimatedCents: number;
  budgetCents: number;
  utilizationPercent: number;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  events: number;
  /** Usage nobody priced (a subscription, tokens without dollars): counted at its estimate. */
  unpricedEvents: number;
  priceTable: string;
}

/** One line of …/costs/by-agent or …/costs/by-project. */
export interface CostLine {
  spendCents: number;
  /** Reported dollars only. */
  costCents: number;
  /** The price table's estimate of the unpriced usage. */
  estimatedCostCents: number;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  apiRunCount: number;
  subscriptionRunCount: number;
  unpricedCount: number;
}

export interface AgentCostLine extends CostLine {
  agentId: string;
  agentName: string | null;
  agentStatus: string | null;
  budgetMonthlyCents: number | null;
}

export interface ProjectCostLine extends CostLine {
  projectId: string;
  projectName: string | null;
}

/** The server's percentage as written: "26.78%", "100%". */
export function percentText(percent: number): string {
  return `${Math.round(percent * 100) / 100}%`;
}

/** `part` of `budget` in percent, two decimals, as domain/costs.rs percent() computes it. */
export function percentOf(part: number, budget: number): number {
  return budget > 0 ? Math.round((part / budget) * 10_000) / 100 : 0;
}

const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
const exact = new Intl.NumberFormat();

/** "151.5K" tokens, with the exact count for a title. */
export function tokens(n: number): { short: string; exact: string } {
  return { short: compact.format(n), exact: `${exact.format(n)} tokens` };
}
