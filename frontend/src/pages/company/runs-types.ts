// What the run pages read (shared/src/types/run.rs, camelCase) and how a run reads in words:
// its status colour, what woke it, how long it took.
import { useEffect, useRef, useState } from "react";
import { get } from "../../api";
import type { Tone } from "../../components/ui";
import { words, type IssueRef } from "./types";

export const RUN_STATUSES = [
  "queued",
  "running",
  "succeeded",
  "failed",
  "cancelled",
  "timed_out",
  "scheduled_retry",
  "interrupted",
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface HeartbeatRun {
  id: string;
  companyId: string;
  agentId: string;
  invocationSource: "timer" | "assignment" | "on_demand" | "automation";
  triggerDetail: "manual" | "ping" | "callback" | "system" | null;
  status: RunStatus;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  errorCode: string | null;
  exitCode: number | null;
  signal: string | null;
  usageJson: Usage | null;
  resultJson: Record<string, unknown> | null;
  sessionIdBefore: string | null;
  sessionIdAfter: string | null;
  logBytes: number;
  lastOutputAt: string | null;
  processPid: number | null;
  retryOfRunId: string | null;
  scheduledRetryAt: string | null;
  scheduledRetryAttempt: number;
  scheduledRetryReason: string | null;
  /** What the wake said: issueId, wakeReason, wakeReasons, commentId, approvalId, … */
  contextSnapshot: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

/** server/src/heartbeat/execute.rs usage_json: any of these may be null. */
export interface Usage {
  inputTokens?: number | null;
  cachedInputTokens?: number | null;
  outputTokens?: number | null;
  provider?: string | null;
  model?: string | null;
  billingType?: string | null;
  costUsd?: number | null;
}

/** GET /heartbeat-runs/:id/log: NDJSON bytes from `offset`; `nextOffset` only when more is written. */
export interface RunLogPage {
  runId: string;
  content: string;
  nextOffset?: number;
}

/** One line of the log: `stream` is stdout, stderr, or system (the server's own words). */
export interface LogLine {
  ts?: string;
  stream: string;
  chunk: string;
  seq?: number;
}

/** Still going: the pages poll while a run is in one of these. */
export function isAlive(status: string): boolean {
  return status === "queued" || status === "running";
}

/** Not over yet, so the board can still stop it (server: RunStatus::is_terminal). */
export function isCancellable(status: string): boolean {
  return isAlive(status) || status === "scheduled_retry";
}

export function runTone(status: string): Tone {
  switch (status) {
    case "running":
      return "info";
    case "succeeded":
      return "good";
    case "failed":
    case "timed_out":
      return "bad";
    case "scheduled_retry":
    case "interrupted":
      return "warn";
    default:
      return "neutral";
  }
}

const SOURCES: Record<string, string> = {
  timer: "Timer",
  assignment: "Assignment",
  on_demand: "On demand",
  automation: "Automation",
};
const TRIGGERS: Record<string, string> = {
  manual: "by hand",
  ping: "by a ping",
  callback: "by a callback",
  system: "by the system",
};

/** "On demand, by hand". */
export function sourceText(run: HeartbeatRun): string {
  const source = SOURCES[run.invocationSource] ?? words(run.invocationSource);
  const trigger = run.triggerDetail ? (TRIGGERS[run.triggerDetail] ?? words(run.triggerDetail)) : null;
  return trigger ? `${source}, ${trigger}` : source;
}

/** Why it woke ("issue assigned, issue commented"), from the wake's context; null when unsaid. */
export function wakeReasons(run: HeartbeatRun): string | null {
  const ctx = run.contextSnapshot ?? {};
  const list = Array.isArray(ctx.wakeReasons) ? ctx.wakeReasons.filter((r): r is string => typeof r === "string") : [];
  if (list.length === 0 && typeof ctx.wakeReason === "string") list.push(ctx.wakeReason);
  const unique = [...new Set(list)];
  return unique.length ? unique.map(words).join(", ") : null;
}

/** The issue the run worked on (a UUID, or whatever the waker passed), if any. */
export function issueIdOf(run: HeartbeatRun): string | null {
  const id = run.contextSnapshot?.issueId;
  return typeof id === "string" && id ? id : null;
}

/** From start to end, or to now while it runs; null before it starts. */
export function durationOf(run: HeartbeatRun, now: number = Date.now()): string | null {
  if (!run.startedAt) return null;
  const end = run.finishedAt ? new Date(run.finishedAt).getTime() : now;
  return duration(end - new Date(run.startedAt).getTime());
}

/** "850 ms", "4.2 s", "3 min 4 s", "1 h 2 min". */
export function duration(ms: number): string {
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const whole = Math.round(s);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  if (h > 0) return `${h} h ${m} min`;
  return `${m} min ${whole % 60} s`;
}

/** How the process ended: "exit 0", "signal SIGTERM", or null (nothing ran, or no word). */
export function exitText(run: HeartbeatRun): string | null {
  if (run.exitCode !== null && run.exitCode !== undefined) return `exit ${run.exitCode}`;
  return run.signal ? `signal ${run.signal}` : null;
}

/** The error code worth showing beside the status ("cancelled" twice says nothing). */
export function shownErrorCode(run: HeartbeatRun): string | null {
  return run.errorCode && run.errorCode !== run.status ? run.errorCode : null;
}

/** A run's id as people read it: its first eight characters. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** The issues runs worked on, by the id in their context: asked once each, null when the
 * server has none (deleted, or not an issue of this company). */
export function useIssueRefs(ids: string[]): Record<string, IssueRef | null> {
  const [refs, setRefs] = useState<Record<string, IssueRef | null>>({});
  const asked = useRef(new Set<string>());
  const key = [...new Set(ids)].sort().join(" ");
  useEffect(() => {
    for (const id of key ? key.split(" ") : []) {
      if (asked.current.has(id)) continue;
      asked.current.add(id);
      get<IssueRef>(`/issues/${encodeURIComponent(id)}`).then(
        (issue) => setRefs((prev) => ({ ...prev, [id]: issue })),
        () => setRefs((prev) => ({ ...prev, [id]: null })),
      );
    }
  }, [key]);
  return refs;
}
