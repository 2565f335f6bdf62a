// "/companies/:companyId": one company at a glance — its goal, agents and issues by status,
// the month's spend against its budget, what is paused and why, and what happened lately.
import { get, query } from "../../api";
import { Badge, Card, Empty, ErrorNote, Loading, Note, PageHeader } from "../../components/ui";
import { Meter, Stat } from "../../components/figures";
import { LiveDot } from "../../components/live-dot";
import { dateTime, money, relative } from "../../format";
import { useData } from "../../hooks";
import { useLiveReload } from "../../live";
import { Link } from "../../router";
import { CompanyNotFound } from "./not-found";
import { useSession } from "../../session";
import type { Company } from "../../types";
import { companyTone, issueTone, orNotFound, words, ISSUE_STATUSES, type ActivityEntry, type Agent, type Dashboard as DashboardData, type Goal } from "./types";
import "./company.css";

interface Overview {
  company: Company;
  dashboard: DashboardData;
  goals: Goal[];
  agents: Agent[];
  activity: ActivityEntry[];
}

export function Dashboard({ params }: { params: Record<string, string> }) {
  const id = params.companyId;
  const overview = useData(async (): Promise<Overview | null> => {
    const company = await orNotFound(get<Company>(`/companies/${id}`));
    if (!company) return null;
    const [dashboard, goals, agents, activity] = await Promise.all([
      get<DashboardData>(`/companies/${id}/dashboard`),
      get<Goal[]>(`/companies/${id}/goals`),
      get<Agent[]>(`/companies/${id}/agents`),
      get<ActivityEntry[]>(`/companies/${id}/activity${query({ limit: 15 })}`),
    ]);
    return { company, dashboard, goals, agents, activity };
  }, [id]);
  // Any activity or agent status may change a count or the activity list: one reload a burst
  // (no socket for a company that is not found).
  const live = useLiveReload(
    overview.data === null ? undefined : id,
    (e) => e.type === "activity.logged" || e.type === "agent.status",
    () => void overview.reload(),
  );

  if (overview.loading && overview.data === undefined) return <Loading what="Loading the dashboard" />;
  if (overview.error && !overview.data) return <ErrorNote error={overview.error} />;
  if (!overview.data) return <CompanyNotFound />;

  const { company, dashboard: d, goals, agents, activity } = overview.data;
  const goal = goals.find((g) => g.level === "company") ?? goals[0];
  const budget = d.costs.monthBudgetCents;
  const over = budget > 0 && d.costs.monthUtilizationPercent >= 80;

  return (
    <>
      <PageHeader
        title={company.name}
        subtitle={
          <>
            <Badge tone={companyTone(company.status)}>{company.status}</Badge>
            <span className="muted"> · issue prefix </span>
            <code>{company.issuePrefix}</code>
          </>
        }
        actions={
          <>
            <LiveDot status={live} />
            <Link to={`/companies/${id}/issues`} className="btn btn-secondary">
              Issues
            </Link>
            <Link to={`/companies/${id}/agents`} className="btn btn-secondary">
              Agents
            </Link>
          </>
        }
      />
      {goal || company.description ? (
        <section className="card goal-card" aria-label="Company goal">
          {goal ? (
            <div>
              <div className="stat-label">Goal</div>
              <div className="goal-title">{goal.title}</div>
            </div>
          ) : null}
          {company.description ? <p className="prose muted">{company.description}</p> : null}
        </section>
      ) : null}
      <ErrorNote error={overview.error} />

      <div className="grid stats" role="group" aria-label="Company at a glance">
        <Stat label="Agents active" value={d.agents.active + d.agents.running} link={`/companies/${id}/agents`}>
          {d.agents.running} running · {d.agents.paused} paused · {d.agents.error} in error
        </Stat>
        <Stat label="Open issues" value={d.tasks.open} link={`/companies/${id}/issues`}>
          {d.tasks.inProgress} in progress · {d.tasks.blocked} blocked
        </Stat>
        <Stat label="Done" value={d.tasks.done}>
          {d.staleTasks > 0 ? `${d.staleTasks} in progress for over a day` : "Nothing stale in progress"}
        </Stat>
        <Stat label="Spend this month" value={money(d.costs.monthSpendCents)} tone={over ? "warn" : undefined}>
          {budget > 0 ? (
            <>
              <Meter percent={d.costs.monthUtilizationPercent} />
              {Math.round(d.costs.monthUtilizationPercent)}% of {money(budget)}
            </>
          ) : (
            "No monthly budget"
          )}
          {d.costs.monthEstimatedCents > 0 ? ` · ${money(d.costs.monthEstimatedCents)} estimated` : null}
        </Stat>
        <Stat label="Pending approvals" value={d.pendingApprovals}>
          {d.pendingApprovals > 0 ? "Waiting for the board" : "Nothing waiting"}
        </Stat>
      </div>

      {d.pausedAgents.length > 0 ? (
        <Card title="Paused agents">
          <ul className="plain-list">
            {d.pausedAgents.map((p) => (
              <li key={p.agentId}>
                <div className="row-line">
                  <strong>{p.name}</strong>
                  <Badge tone="warn">{words(p.reason)}</Badge>
                  {p.pausedAt ? <span className="muted" title={dateTime(p.pausedAt)}>since {relative(p.pausedAt)}</span> : null}
                  {p.until ? <span className="muted">until {dateTime(p.until)}</span> : null}
                </div>
                <div className="muted">{p.lift}</div>
              </li>
            ))}
          </ul>
        </Card>
      ) : null}
      {d.breakers.length > 0 ? (
        <Note kind="warning">
          {d.breakers.length === 1 ? "A breaker has" : `${d.breakers.length} breakers have`} paused agents (usage limits or
          loops); see the paused agents above.
        </Note>
      ) : null}

      <div className="two-col">
        <Card title="Issues by status">
          {Object.keys(d.issuesByStatus).length === 0 ? (
            <Empty title="No issues yet">
              <Link to={`/companies/${id}/issues`}>Create the first issue</Link>
            </Empty>
          ) : (
            <ul className="plain-list status-counts">
              {ISSUE_STATUSES.filter((s) => d.issuesByStatus[s]).map((s) => (
                <li key={s}>
                  <Link to={`/companies/${id}/issues?status=${s}`}>
                    <Badge tone={issueTone(s)}>{words(s)}</Badge>
                  </Link>
                  <span className="num">{d.issuesByStatus[s]}</span>
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card title="Recent activity">
          <ActivityList entries={activity} agents={agents} companyId={id} />
        </Card>
      </div>
    </>
  );
}



const VERBS: Record<string, string> = {
  "company.created": "founded the company",
  "company.updated": "updated the company",
  "company.budget_updated": "changed the company budget",
  "goal.created": "set the goal",
  "goal.updated": "updated the goal",
  "agent.created": "hired",
  "agent.updated": "updated",
  "agent.paused": "paused",
  "agent.resumed": "resumed",
  "agent.terminated": "terminated",
  "agent.budget_updated": "changed the budget of",
  "agent.key_created": "created an API key for",
  "heartbeat.invoked": "invoked a heartbeat of",
  "issue.created": "created",
  "issue.updated": "updated",
  "issue.comment_added": "commented on",
  "issue.checked_out": "checked out",
  "issue.released": "released",
  "approval.created": "requested approval",
};

/** The log as sentences: "Board created ACM-1 · 2 minutes ago". */
function ActivityList({ entries, agents, companyId }: { entries: ActivityEntry[]; agents: Agent[]; companyId: string }) {
  const me = useSession().session?.user.id;
  if (entries.length === 0) return <Empty title="Nothing has happened yet" />;
  const agentName = (id: string | null) => agents.find((a) => a.id === id)?.name;
  return (
    <ol className="plain-list activity" aria-label="Recent activity">
      {entries.map((e) => {
        const d = e.details ?? {};
        const text = (k: string) => (typeof d[k] === "string" ? (d[k] as string) : undefined);
        const actor =
          e.actorType === "agent" ? (agentName(e.actorId) ?? "An agent") : e.actorType === "system" ? "The system" : e.actorId === me ? "You" : "The board";
        const verb = VERBS[e.action] ?? words(e.action.replace(".", " "));
        // A run's entry is about the run (entityId); the agent it woke is in its details.
        const subject =
          e.entityType === "agent" || e.entityType === "heartbeat_run"
            ? (text("name") ?? agentName(e.entityId) ?? agentName(text("agentId") ?? null) ?? agentName(e.agentId))
            : (text("identifier") ?? text("title") ?? text("name"));
        // A new issue is named with its title too: the identifier alone says little.
        const title = e.action === "issue.created" && text("identifier") ? text("title") : undefined;
        const target =
          e.entityType === "issue"
            ? `/companies/${companyId}/issues/${e.entityId}`
            : e.entityType === "heartbeat_run"
              ? `/companies/${companyId}/runs/${e.entityId}`
              : e.entityType === "agent"
                ? `/companies/${companyId}/agents`
                : null;
        return (
          <li key={e.id}>
            <span>
              <strong>{actor}</strong> {verb}{" "}
              {subject ? target ? <Link to={target}>{subject}</Link> : <span>{subject}</span> : null}
              {title ? <span className="muted"> {title}</span> : null}
              {e.action === "issue.updated" ? <span className="muted">{changeText(d.changes)}</span> : null}
              {e.action === "issue.comment_added" && text("bodySnippet") ? (
                <span className="muted"> — “{text("bodySnippet")}”</span>
              ) : null}
            </span>
            <time className="muted" dateTime={e.createdAt} title={dateTime(e.createdAt)}>
              {relative(e.createdAt)}
            </time>
          </li>
        );
      })}
    </ol>
  );
}

/** An issue update's changes as words: " (status todo → done, priority)"; the timestamps a
 * status change sets on its own are left out. */
function changeText(changes: unknown): string {
  if (!changes || typeof changes !== "object") return "";
  const parts = Object.entries(changes as Record<string, { from?: unknown; to?: unknown }>)
    .filter(([field]) => !/At$/.test(field))
    .map(([field, c]) => {
      const name = field.replace(/([A-Z])/g, " $1").toLowerCase().replace(/ id$/, "");
      return (field === "status" || field === "priority") && typeof c?.to === "string"
        ? `${name} ${words(String(c.from))} → ${words(c.to)}`
        : name;
    });
  return parts.length ? ` (${parts.join(", ")})` : "";
}
