// "/companies/:companyId/runs": the company's heartbeat runs, newest first, filtered by agent
// and status, following the company's live events and refreshed every 2 s while one of them is
// still queued or running.
import { Fragment, useEffect, useState } from "react";
import { get, query } from "../../api";
import { Badge, Button, Card, Empty, ErrorNote, Field, Loading, Options, PageHeader } from "../../components/ui";
import { dateTime, relative } from "../../format";
import { LiveDot } from "../../components/live-dot";
import { useData } from "../../hooks";
import { activityOf, useLiveReload } from "../../live";
import { Link } from "../../router";
import { CompanyNotFound } from "./not-found";
import { orNotFound, words, type Agent, type IssueRef } from "./types";
import {
  RUN_STATUSES,
  durationOf,
  exitText,
  isAlive,
  issueIdOf,
  runTone,
  shortId,
  shownErrorCode,
  sourceText,
  useIssueRefs,
  wakeReasons,
  type HeartbeatRun,
} from "./runs-types";
import "./company.css";
import "./runs.css";

/** The server's own cap is 1000; the newest 200 are what a person looks through. */
const LIMIT = 200;
const REFRESH_MS = 2000;

export function Runs({ params }: { params: Record<string, string> }) {
  const id = params.companyId;
  const initial = new URLSearchParams(window.location.search);
  const [agentId, setAgentId] = useState(initial.get("agentId") ?? "");
  const [status, setStatus] = useState(initial.get("status") ?? "");

  // Filters live in the address too, so a filtered list can be reloaded or shared.
  useEffect(() => {
    history.replaceState(null, "", `${window.location.pathname}${query({ agentId, status })}`);
  }, [agentId, status]);

  const runs = useData(
    () => orNotFound(get<HeartbeatRun[]>(`/companies/${id}/heartbeat-runs${query({ agentId, limit: LIMIT })}`)),
    [id, agentId],
  );
  const agents = useData(() => orNotFound(get<Agent[]>(`/companies/${id}/agents`)), [id]);
  // A run queued or ending anywhere (a timer, an assignment, another tab) shows without a click;
  // the polling below also keeps a live run's duration moving when the socket is down.
  const live = useLiveReload(
    runs.data === null ? undefined : id,
    (e) => e.type === "heartbeat.run.queued" || e.type === "heartbeat.run.status" || activityOf(e)?.entityType === "heartbeat_run",
    () => void runs.reload(),
  );

  // Poll while anything fetched is still going (also runs the status filter hides: one may be
  // about to match it). One request at a time: the next waits for the last to settle.
  const alive = (runs.data ?? []).some((r) => isAlive(r.status));
  const { reload, loading } = runs;
  useEffect(() => {
    if (!alive || loading) return;
    const t = setTimeout(() => void reload(), REFRESH_MS);
    return () => clearTimeout(t);
  }, [alive, loading, reload, runs.data]);

  const all = runs.data ?? [];
  // The server filters by agent only; the status filter applies to what it answered.
  const list = status ? all.filter((r) => r.status === status) : all;
  const issues = useIssueRefs(list.map(issueIdOf).filter((i): i is string => i !== null));

  if (runs.data === null || agents.data === null) return <CompanyNotFound />;
  const agentName = (agentId: string) => agents.data?.find((a) => a.id === agentId)?.name;
  const filtered = agentId !== "" || status !== "";

  return (
    <>
      <PageHeader
        title="Runs"
        subtitle="Every heartbeat of the company's agents: what woke them, how it went, what they said."
        actions={
          <>
            <LiveDot status={live} />
            {/* While polling the list refreshes itself: no spinner flashing every 2 s. */}
            <Button variant="secondary" pending={runs.loading && runs.data !== undefined && !alive} onClick={() => void runs.reload()}>
              Refresh
            </Button>
          </>
        }
      />
      <Card>
        <div className="filters runs-filters" role="search">
          <Field label="Agent" htmlFor="run-filter-agent">
            <select id="run-filter-agent" value={agentId} onChange={(e) => setAgentId(e.target.value)}>
              <option value="">All agents</option>
              {(agents.data ?? []).map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Status" htmlFor="run-filter-status">
            <select id="run-filter-status" value={status} onChange={(e) => setStatus(e.target.value)}>
              <option value="">All statuses</option>
              <Options values={RUN_STATUSES} label={words} />
            </select>
          </Field>
          {alive ? (
            <span className="muted runs-live" role="status">
              <span className="runs-live-dot" aria-hidden /> Refreshing while runs are under way
            </span>
          ) : null}
        </div>
        <ErrorNote error={runs.error} />
        {runs.data === undefined ? (
          runs.error ? null : <Loading what="Loading runs" />
        ) : list.length === 0 ? (
          filtered ? (
            <Empty title="No runs match">Try another agent or status.</Empty>
          ) : (
            <Empty title="No runs yet">
              An agent runs when it is invoked, on its timer, or when work is assigned to it. <Link to={`/companies/${id}/agents`}>See the agents</Link>
            </Empty>
          )
        ) : (
          <div className="table-scroll">
            <table className="table runs-table" aria-label="Runs">
              <thead>
                <tr>
                  <th>Run</th>
                  <th>Agent</th>
                  <th>Status</th>
                  <th>Source</th>
                  <th>Issue</th>
                  <th>Started</th>
                  <th className="num">Duration</th>
                  <th>Ending</th>
                </tr>
              </thead>
              <tbody>
                {list.map((r) => (
                  <RunRow key={r.id} run={r} companyId={id} agent={agentName(r.agentId)} issues={issues} />
                ))}
              </tbody>
            </table>
            {all.length >= LIMIT ? <p className="muted cell-sub">The newest {LIMIT} runs{agentId ? " of this agent" : ""}.</p> : null}
          </div>
        )}
      </Card>
    </>
  );
}

function RunRow({ run: r, companyId, agent, issues }: { run: HeartbeatRun; companyId: string; agent?: string; issues: Record<string, IssueRef | null> }) {
  const reasons = wakeReasons(r);
  const exit = exitText(r);
  const code = shownErrorCode(r);
  return (
    <tr>
      <td className="nowrap">
        <Link to={`/companies/${companyId}/runs/${r.id}`} aria-label={`Run ${shortId(r.id)}`}>
          <code>{shortId(r.id)}</code>
        </Link>
      </td>
      <td className="runs-agent" title={agent}>
        {agent ?? <span className="muted">a former agent</span>}
      </td>
      <td>
        <Badge tone={runTone(r.status)}>{words(r.status)}</Badge>
      </td>
      <td className="runs-source">
        {sourceText(r)}
        {reasons ? <div className="muted cell-sub">{reasons}</div> : null}
      </td>
      <td>
        <IssueCell companyId={companyId} issueId={issueIdOf(r)} issues={issues} />
      </td>
      <td className="muted runs-started" title={dateTime(r.startedAt ?? r.createdAt)}>
        {r.startedAt
          ? relative(r.startedAt)
          : r.status === "scheduled_retry" && r.scheduledRetryAt
            ? `retries ${relative(r.scheduledRetryAt)}`
            : `queued ${relative(r.createdAt)}`}
      </td>
      <td className="num nowrap">{durationOf(r) ?? <span className="muted">—</span>}</td>
      <td className="runs-ending" title={r.error ?? undefined}>
        {exit ? <code className="nowrap">{exit}</code> : null}
        {code ? <div className={runTone(r.status) === "bad" ? "run-bad" : "muted"}>{breakable(code)}</div> : null}
        {!exit && !code ? <span className="muted">—</span> : null}
      </td>
    </tr>
  );
}

/** snake_case that may break after its underscores, not inside a word. */
function breakable(code: string) {
  return code.split("_").map((part, i) => (
    <Fragment key={i}>
      {i > 0 ? (
        <>
          _<wbr />
        </>
      ) : null}
      {part}
    </Fragment>
  ));
}

/** The issue a run worked on, by identifier once the server has said which one it is. */
export function IssueCell({ companyId, issueId, issues }: { companyId: string; issueId: string | null; issues: Record<string, IssueRef | null> }) {
  if (!issueId) return <span className="muted">—</span>;
  const issue = issues[issueId];
  if (issue === null) return <span className="muted">an issue no longer here</span>;
  return (
    <Link to={`/companies/${companyId}/issues/${issue?.identifier ?? issueId}`} title={issue?.title}>
      <code>{issue?.identifier ?? shortId(issueId)}</code>
    </Link>
  );
}
