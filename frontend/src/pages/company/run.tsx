// "/companies/:companyId/runs/:runId": one heartbeat run: what woke it, how it ended, what it
// cost, a Cancel button while it is under way, and its log, read a piece at a time and
// followed every second until the run ends.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { get, post, query } from "../../api";
import { Badge, Button, Card, Empty, ErrorNote, Loading, PageHeader } from "../../components/ui";
import { Fact } from "../../components/figures";
import { dateTime, relative } from "../../format";
import { useAction, useData } from "../../hooks";
import { Link, navigate } from "../../router";
import { IssueCell } from "./runs";
import { orNotFound, words, type Agent } from "./types";
import {
  durationOf,
  isAlive,
  isCancellable,
  issueIdOf,
  runTone,
  shortId,
  sourceText,
  useIssueRefs,
  wakeReasons,
  type HeartbeatRun,
  type LogLine,
  type RunLogPage,
  type Usage,
} from "./runs-types";
import "./company.css";
import "./runs.css";

const REFRESH_MS = 1000;

export function RunDetail({ params }: { params: Record<string, string> }) {
  const { companyId, runId } = params;
  const run = useData(() => orNotFound(get<HeartbeatRun>(`/heartbeat-runs/${encodeURIComponent(runId)}`)), [runId]);
  const agents = useData(() => orNotFound(get<Agent[]>(`/companies/${companyId}/agents`)), [companyId]);
  const cancel = useAction();

  const loaded = run.data;
  const alive = loaded ? isAlive(loaded.status) : false;
  // Follow the run while it is under way; one request at a time.
  const { reload, loading } = run;
  useEffect(() => {
    if (!alive || loading) return;
    const t = setTimeout(() => void reload(), REFRESH_MS);
    return () => clearTimeout(t);
  }, [alive, loading, reload, loaded]);
  // A run reached under another company's address (a pasted link): show it where it lives.
  useEffect(() => {
    if (loaded && loaded.companyId !== companyId) navigate(`/companies/${loaded.companyId}/runs/${loaded.id}`, { replace: true });
  }, [loaded, companyId]);
  const issueId = loaded ? issueIdOf(loaded) : null;
  const issues = useIssueRefs(issueId ? [issueId] : []);

  if (run.loading && run.data === undefined) return <Loading what="Loading the run" />;
  if (run.error && !run.data) return <ErrorNote error={run.error} />;
  if (!loaded)
    return (
      <Empty title="Run not found">
        There is no run {runId} here. <Link to={`/companies/${companyId}/runs`}>See the company's runs</Link>
      </Empty>
    );

  const agent = agents.data?.find((a) => a.id === loaded.agentId);
  const stop = async () => {
    const stopped = await cancel.run(() => post<HeartbeatRun>(`/heartbeat-runs/${loaded.id}/cancel`));
    if (stopped) {
      run.setData(stopped);
      // Drops a refresh that left before the cancel and would bring "running" back.
      void run.reload();
    }
  };

  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to={`/companies/${loaded.companyId}/runs`}>Runs</Link>
        <span className="muted"> / {shortId(loaded.id)}</span>
      </nav>
      <PageHeader
        title={`Run of ${agent?.name ?? "an agent"}`}
        subtitle={
          <>
            <code>{shortId(loaded.id)}</code> · {sourceText(loaded)} · queued {relative(loaded.createdAt)}
          </>
        }
        actions={
          <>
            <Badge tone={runTone(loaded.status)}>
              <span data-testid="run-status">{words(loaded.status)}</span>
            </Badge>
            {isCancellable(loaded.status) ? (
              <Button variant="danger" pending={cancel.pending} onClick={() => void stop()} title="Stop the run now">
                Cancel run
              </Button>
            ) : null}
          </>
        }
      />
      <ErrorNote error={cancel.error} />
      {loaded.error ? (
        // A cancelled run's "error" is who stopped it: not an alarm.
        <div className={`note ${loaded.status === "cancelled" ? "note-info" : "note-error"}`} data-testid="run-error">
          {loaded.errorCode && loaded.status !== "cancelled" ? <strong>{words(loaded.errorCode)}: </strong> : null}
          {loaded.error}
        </div>
      ) : null}
      <div className="issue-layout run-layout">
        <RunLog runId={loaded.id} alive={alive} />
        <aside>
          <Card title="Details">
            <dl className="facts run-facts">
              <Fact label="Agent">{agent?.name ?? (agents.data ? "a former agent" : null)}</Fact>
              <Fact label="Status">{words(loaded.status)}</Fact>
              <Fact label="Source">{sourceText(loaded)}</Fact>
              <Fact label="Woken for">{wakeReasons(loaded)}</Fact>
              <Fact label="Issue">{issueId ? <IssueCell companyId={loaded.companyId} issueId={issueId} issues={issues} /> : null}</Fact>
              <Fact label="Queued">{dateTime(loaded.createdAt)}</Fact>
              <Fact label="Started">{loaded.startedAt ? dateTime(loaded.startedAt) : null}</Fact>
              <Fact label="Finished">{loaded.finishedAt ? dateTime(loaded.finishedAt) : null}</Fact>
              <Fact label="Duration">{durationOf(loaded)}</Fact>
              <Fact label="Exit code">{loaded.exitCode ?? null}</Fact>
              <Fact label="Signal">{loaded.signal}</Fact>
              <Fact label="Error code">{loaded.errorCode ? <code>{loaded.errorCode}</code> : null}</Fact>
              <Fact label="Summary">{summaryOf(loaded)}</Fact>
              <UsageFacts usage={loaded.usageJson} />
              <Fact label="Session before">{loaded.sessionIdBefore ? <code>{loaded.sessionIdBefore}</code> : null}</Fact>
              <Fact label="Session after">{loaded.sessionIdAfter ? <code>{loaded.sessionIdAfter}</code> : null}</Fact>
              <Fact label="Retry of">
                {loaded.retryOfRunId ? (
                  <Link to={`/companies/${loaded.companyId}/runs/${loaded.retryOfRunId}`}>
                    <code>{shortId(loaded.retryOfRunId)}</code>
                  </Link>
                ) : null}
              </Fact>
              <Fact label="Retry">
                {loaded.scheduledRetryAttempt > 0
                  ? `attempt ${loaded.scheduledRetryAttempt}${loaded.scheduledRetryReason ? `, ${words(loaded.scheduledRetryReason)}` : ""}`
                  : null}
              </Fact>
              <Fact label="Retries at">{loaded.scheduledRetryAt ? dateTime(loaded.scheduledRetryAt) : null}</Fact>
              <Fact label="Process">{loaded.processPid ? `pid ${loaded.processPid}` : null}</Fact>
            </dl>
          </Card>
        </aside>
      </div>
    </>
  );
}

/** What the agent reported it did (webhook callbacks and the CLI adapters say so). */
function summaryOf(run: HeartbeatRun): string | null {
  const s = run.resultJson?.summary;
  return typeof s === "string" && s.trim() ? s : null;
}

function UsageFacts({ usage }: { usage: Usage | null }) {
  if (!usage) return null;
  const n = (v: number | null | undefined) => (typeof v === "number" ? v.toLocaleString() : null);
  const tokens = [
    n(usage.inputTokens) !== null ? `${n(usage.inputTokens)} in` : null,
    n(usage.cachedInputTokens) ? `${n(usage.cachedInputTokens)} cached` : null,
    n(usage.outputTokens) !== null ? `${n(usage.outputTokens)} out` : null,
  ].filter(Boolean);
  const model = [usage.provider, usage.model].filter(Boolean).join(" · ");
  return (
    <>
      <Fact label="Tokens">{tokens.length ? tokens.join(", ") : null}</Fact>
      <Fact label="Model">{model || null}</Fact>
      <Fact label="Cost">
        {typeof usage.costUsd === "number"
          ? usage.costUsd.toLocaleString(undefined, { style: "currency", currency: "USD", maximumFractionDigits: 4 })
          : null}
      </Fact>
    </>
  );
}

/** The most the server hands out at once (server/src/domain/runs.rs LOG_READ_MAX). */
const LOG_PAGE = 1_048_576;
/** Terminal colour codes some CLIs print: noise as text. */
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
const encoder = new TextEncoder();

interface Segment {
  stream: string;
  text: string;
}

/** The log, read from where the last read ended, every second while the run is alive and
 * once more when it ends. Whole lines only: a read that ends inside a line (or inside a
 * character) is taken again from that line's start. */
function useRunLog(runId: string, alive: boolean) {
  const [segments, setSegments] = useState<Segment[]>([]);
  const [error, setError] = useState<string | null>(null);
  const offset = useRef(0);
  const busy = useRef(false);
  // A read asked for while one is under way (the run just ended): done once that one is.
  const again = useRef(false);

  /** Every whole line written so far, a page at a time. */
  // Set when the page goes: a long log stops being read instead of paging on unseen.
  const gone = useRef(false);
  useEffect(() => {
    gone.current = false;
    return () => {
      gone.current = true;
    };
  }, []);

  const readToEnd = useCallback(async () => {
    while (!gone.current) {
      const page = await get<RunLogPage>(`/heartbeat-runs/${runId}/log${query({ offset: offset.current, limitBytes: LOG_PAGE })}`);
      const end = page.content.lastIndexOf("\n");
      if (end < 0 && page.nextOffset !== undefined) {
        // One line longer than a whole page: step over it (the server's offset is exact) rather
        // than ask for the same page forever.
        offset.current = page.nextOffset;
        setSegments((prev) => append(prev, [{ stream: "system", chunk: "[a log line longer than 1 MiB is not shown]\n" }]));
        continue;
      }
      if (end < 0) return;
      const whole = page.content.slice(0, end + 1);
      offset.current += encoder.encode(whole).length;
      const lines = whole.split("\n").filter(Boolean).map(parseLine);
      setSegments((prev) => append(prev, lines));
      if (page.nextOffset === undefined) return;
    }
  }, [runId]);

  const readMore = useCallback(async () => {
    if (busy.current) {
      again.current = true;
      return;
    }
    busy.current = true;
    try {
      do {
        again.current = false;
        await readToEnd();
      } while (again.current);
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      busy.current = false;
    }
  }, [readToEnd]);

  useEffect(() => {
    void readMore();
    if (!alive) return;
    const t = setInterval(() => void readMore(), REFRESH_MS);
    return () => clearInterval(t);
  }, [alive, readMore]);

  return { segments, error };
}

function parseLine(line: string): LogLine {
  try {
    const v = JSON.parse(line) as Partial<LogLine>;
    if (typeof v.chunk === "string") return { stream: typeof v.stream === "string" ? v.stream : "stdout", chunk: v.chunk };
  } catch {
    // Not one of the server's lines: show it as it is.
  }
  return { stream: "stdout", chunk: `${line}\n` };
}

/** Neighbouring chunks of one stream read as one piece of text. */
function append(prev: Segment[], lines: LogLine[]): Segment[] {
  const out = prev.slice();
  for (const l of lines) {
    const text = l.chunk.replace(ANSI, "");
    const last = out[out.length - 1];
    if (last && last.stream === l.stream) out[out.length - 1] = { stream: last.stream, text: last.text + text };
    else out.push({ stream: l.stream, text });
  }
  return out;
}

function RunLog({ runId, alive }: { runId: string; alive: boolean }) {
  const { segments, error } = useRunLog(runId, alive);
  const panel = useRef<HTMLPreElement>(null);
  // Follow the end of the log unless the reader scrolled up to read something.
  const follow = useRef(true);
  useLayoutEffect(() => {
    const el = panel.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [segments]);
  const onScroll = () => {
    const el = panel.current;
    if (el) follow.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 24;
  };

  return (
    <Card
      title="Log"
      actions={
        <span className="log-legend muted">
          <span className="log-key log-stdout">stdout</span>
          <span className="log-key log-stderr">stderr</span>
          <span className="log-key log-system">paperclip</span>
        </span>
      }
    >
      <ErrorNote error={error} />
      <pre className="run-log" ref={panel} onScroll={onScroll} aria-label="Run log" tabIndex={0} data-testid="run-log">
        {segments.length === 0 ? (
          <span className="muted">{alive ? "Waiting for output…" : "No output."}</span>
        ) : (
          segments.map((s, i) => (
            <span key={i} className={`log-${s.stream}`} data-stream={s.stream}>
              {s.text}
            </span>
          ))
        )}
        {alive && segments.length > 0 ? <span className="log-cursor" aria-hidden /> : null}
      </pre>
    </Card>
  );
}
