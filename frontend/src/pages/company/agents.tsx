// "/companies/:companyId/agents": who works for the company, what each costs this month, the
// buttons that pause, resume or wake one, and the form that hires a new one.
import { useState, type FormEvent } from "react";
import { ApiError, get, post } from "../../api";
import { Badge, Button, Card, Empty, ErrorNote, Field, Loading, Note, PageHeader, Options, RowMessage } from "../../components/ui";
import { LiveDot } from "../../components/live-dot";
import { dateTime, money, relative } from "../../format";
import { useAction, useData } from "../../hooks";
import { activityOf, useDebounced, useLiveEvents, RESYNC } from "../../live";
import { Link } from "../../router";
import { CompanyNotFound } from "./not-found";
import { ADAPTER_TYPES, ROLES, agentTone, centsOf, orNotFound, spend, words, type Agent, type AgentStatus } from "./types";
import "./company.css";

export function Agents({ params }: { params: Record<string, string> }) {
  const id = params.companyId;
  const agents = useData(() => orNotFound(get<Agent[]>(`/companies/${id}/agents`)), [id]);
  const [hiring, setHiring] = useState(false);
  const [hired, setHired] = useState<Agent | null>(null);
  // A status change (a run starting or ending) is applied in place; activity that may change a
  // row (a hire, a pause, a decided approval, reported spend) reloads the list once a burst.
  const refresh = useDebounced(() => void agents.reload());
  const live = useLiveEvents(agents.data === null ? undefined : id, (e) => {
    const a = activityOf(e);
    if (e.type === RESYNC || (a && AGENT_ENTITIES.includes(a.entityType))) refresh();
    if (e.type === "agent.status") {
      // In place at once, and reloaded after: a reload already under way may carry older rows.
      refresh();
      const s = (e.payload ?? {}) as { agentId?: string; status?: AgentStatus; lastHeartbeatAt?: string | null };
      if (!s.agentId || !s.status) return;
      agents.setData((prev) =>
        prev?.map((ag) => (ag.id === s.agentId ? { ...ag, status: s.status!, lastHeartbeatAt: s.lastHeartbeatAt ?? ag.lastHeartbeatAt } : ag)),
      );
    }
  });

  if (agents.data === null) return <CompanyNotFound />;
  const list = agents.data ?? [];
  // From the latest list, not this render's: two row actions may finish in either order.
  const replace = (agent: Agent) => agents.setData((prev) => prev?.map((a) => (a.id === agent.id ? agent : a)));

  return (
    <>
      <PageHeader
        title="Agents"
        subtitle="Each agent runs on an adapter and wakes on heartbeats, assignments and comments."
        actions={
          <>
            <LiveDot status={live} />
            <Button variant={hiring ? "secondary" : "primary"} onClick={() => setHiring(!hiring)} aria-expanded={hiring}>
              {hiring ? "Close form" : "Hire agent"}
            </Button>
          </>
        }
      />
      {hiring ? (
        <HireAgent
          companyId={id}
          onHired={(agent) => {
            setHired(agent);
            setHiring(false);
            void agents.reload();
          }}
        />
      ) : null}
      {hired ? (
        <Note kind="success">
          {hired.status === "pending_approval"
            ? `${hired.name} waits for the board's approval of the hire (this company approves new agents).`
            : `Hired ${hired.name}.`}
        </Note>
      ) : null}
      <ErrorNote error={agents.error} />
      {agents.data === undefined ? (
        agents.error ? null : <Loading what="Loading agents" />
      ) : list.length === 0 ? (
        <Empty title="No agents yet">Hire the first one: a CEO to plan the work, or an engineer to do it.</Empty>
      ) : (
        <Card>
          <table className="table" aria-label="Agents">
            <thead>
              <tr>
                <th>Name</th>
                <th>Role</th>
                <th>Status</th>
                <th>Adapter</th>
                <th className="num">Spend this month</th>
                <th>Last heartbeat</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((a) => (
                <AgentRow key={a.id} agent={a} onChanged={replace} />
              ))}
            </tbody>
          </table>
        </Card>
      )}
    </>
  );
}

/** Activity about these changes an agent's row. */
const AGENT_ENTITIES = ["agent", "approval", "cost_event", "heartbeat_run"];

function AgentRow({ agent: a, onChanged }: { agent: Agent; onChanged: (agent: Agent) => void }) {
  const action = useAction();
  const [said, setSaid] = useState<string | null>(null);

  // Every button answers with the agent as it now is (a wake may have changed its status).
  const act = async (path: string, done: (answer: unknown) => string | null) => {
    setSaid(null);
    const answer = await action.run(async () => {
      const answer = await post<unknown>(`/agents/${a.id}/${path}`);
      onChanged(await get<Agent>(`/agents/${a.id}`));
      return answer ?? {};
    });
    if (answer !== undefined) setSaid(done(answer));
  };
  const paused = a.status === "paused";
  const pending = a.status === "pending_approval";

  return (
    <>
      <tr className={pending ? "dim" : undefined}>
        <td>
          <Link to={`/companies/${a.companyId}/agents/${a.id}`} className="strong-link">
            {a.name}
          </Link>
          {a.title ? <div className="muted cell-sub">{a.title}</div> : null}
        </td>
        <td>{a.role}</td>
        <td>
          <Badge tone={agentTone(a.status)}>{words(a.status)}</Badge>
          {paused && a.pauseReason ? <div className="muted cell-sub">{words(a.pauseReason)}</div> : null}
        </td>
        <td>
          <code>{a.adapterType}</code>
        </td>
        <td className="num">{spend(a.spentMonthlyCents, a.budgetMonthlyCents, money)}</td>
        <td className="muted nowrap" title={a.lastHeartbeatAt ? dateTime(a.lastHeartbeatAt) : undefined}>
          {a.lastHeartbeatAt ? relative(a.lastHeartbeatAt) : "never"}
        </td>
        <td>
          <div className="row-actions">
            {paused ? (
              <Button variant="secondary" pending={action.pending} onClick={() => act("resume", () => `${a.name} resumed.`)} aria-label={`Resume ${a.name}`}>
                Resume
              </Button>
            ) : (
              <Button
                variant="secondary"
                pending={action.pending}
                disabled={pending}
                onClick={() => act("pause", () => `${a.name} paused.`)}
                aria-label={`Pause ${a.name}`}
              >
                Pause
              </Button>
            )}
            <Button
              variant="secondary"
              pending={action.pending}
              disabled={pending}
              onClick={() => act("heartbeat/invoke", wakeSentence)}
              aria-label={`Invoke heartbeat of ${a.name}`}
              title="Wake the agent now"
            >
              Invoke
            </Button>
          </div>
        </td>
      </tr>
      {action.error || said ? (
        <RowMessage colSpan={7}>{action.error ? <ErrorNote error={`${a.name}: ${action.error}`} /> : <Note>{said}</Note>}</RowMessage>
      ) : null}
    </>
  );
}

/** The answer to an invoke: a run (queued, or joined to one already going) or a skip. */
function wakeSentence(answer: unknown): string {
  const a = answer as { status?: string; message?: string; reason?: string };
  if (a.status === "skipped") return `Not woken${a.message ? `: ${a.message}` : a.reason ? ` (${words(a.reason)})` : "."}`;
  return `Heartbeat run ${a.status ? words(a.status) : "queued"}.`;
}

function HireAgent({ companyId, onHired }: { companyId: string; onHired: (agent: Agent) => void }) {
  const [name, setName] = useState("");
  const [role, setRole] = useState("general");
  const [title, setTitle] = useState("");
  const [adapterType, setAdapterType] = useState<string>("process");
  const [budget, setBudget] = useState("");
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body = { name: name.trim(), role, title: title.trim() || undefined, adapterType, budgetMonthlyCents: centsOf(budget) };
    const agent = await action.run(async () => {
      try {
        return await post<Agent>(`/companies/${companyId}/agents`, body);
      } catch (e) {
        // A company that wants the board to approve hires: ask for the approval instead; the
        // agent waits in pending_approval until the board decides.
        if (e instanceof ApiError && e.code === "approval_required") {
          return (await post<{ agent: Agent }>(`/companies/${companyId}/agent-hires`, body)).agent;
        }
        throw e;
      }
    });
    if (agent) onHired(agent);
  };

  return (
    <Card title="Hire agent">
      <form onSubmit={submit} aria-label="Hire agent">
        <div className="form-row top">
          <Field label="Name" htmlFor="agent-name">
            <input id="agent-name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} autoComplete="off" autoFocus />
          </Field>
          <Field label="Title" htmlFor="agent-title" hint="Optional: what the org chart calls it.">
            <input id="agent-title" value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} autoComplete="off" />
          </Field>
        </div>
        <div className="form-row top">
          <Field label="Role" htmlFor="agent-role">
            <select id="agent-role" value={role} onChange={(e) => setRole(e.target.value)}>
              <Options values={ROLES} />
            </select>
          </Field>
          <Field label="Adapter" htmlFor="agent-adapter" hint="How a heartbeat runs it: a command, a webhook, Claude Code or Codex.">
            <select id="agent-adapter" value={adapterType} onChange={(e) => setAdapterType(e.target.value)}>
              <Options values={ADAPTER_TYPES} />
            </select>
          </Field>
          <Field label="Monthly budget (USD)" htmlFor="agent-budget" hint="Empty: no budget of its own.">
            <input id="agent-budget" type="number" min={0} step="0.01" inputMode="decimal" value={budget} onChange={(e) => setBudget(e.target.value)} />
          </Field>
        </div>
        <ErrorNote error={action.error} />
        <div className="form-actions">
          <Button type="submit" pending={action.pending}>
            Hire agent
          </Button>
        </div>
      </form>
    </Card>
  );
}
