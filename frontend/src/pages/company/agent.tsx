// "/companies/:companyId/agents/:agentId": one agent. What it is and costs, the buttons that
// pause, resume, wake or terminate it, its configuration (agent-config.tsx), its API keys and
// its latest runs. Follows the company's live events about it.
import { useState, type FormEvent } from "react";
import { del, get, post, query } from "../../api";
import { Badge, Button, Card, Empty, ErrorNote, Field, Loading, Note, PageHeader, SecretValue, ConfirmAction, RowMessage } from "../../components/ui";
import { Fact, Meter } from "../../components/figures";
import { LiveDot } from "../../components/live-dot";
import { dateTime, money, relative } from "../../format";
import { useAction, useData } from "../../hooks";
import { activityOf, useLiveReload } from "../../live";
import { Link } from "../../router";
import { ConfigCard, type AgentDetailData } from "./agent-config";
import { runTone, shortId, sourceText, type HeartbeatRun } from "./runs-types";
import { agentTone, orNotFound, words, type Agent } from "./types";
import type { ListedSecret } from "./people-types";
import "./company.css";
import "./agent.css";

interface AgentKey {
  id: string;
  agentId: string;
  name: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  createdAt: string;
}

interface CreatedKey {
  id: string;
  name: string;
  token: string;
  createdAt: string;
}

const RUNS = 10;

export function AgentDetail({ params }: { params: Record<string, string> }) {
  const { companyId, agentId } = params;
  const agent = useData(() => orNotFound(get<AgentDetailData>(`/agents/${encodeURIComponent(agentId)}`)), [agentId]);
  const agents = useData(() => get<Agent[]>(`/companies/${companyId}/agents`), [companyId]);
  const secrets = useData(() => get<ListedSecret[]>(`/companies/${companyId}/secrets`), [companyId]);
  const runs = useData(() => get<HeartbeatRun[]>(`/companies/${companyId}/heartbeat-runs${query({ agentId, limit: RUNS })}`), [companyId, agentId]);

  const loaded = agent.data;
  const live = useLiveReload(
    loaded === null ? undefined : companyId,
    (e) => {
      if (e.type === "agent.status") return (e.payload as { agentId?: string } | null)?.agentId === agentId;
      if (e.type === "heartbeat.run.queued" || e.type === "heartbeat.run.status") return (e.payload as { agentId?: string } | null)?.agentId === agentId;
      const a = activityOf(e);
      if (!a) return false;
      return (a.entityType === "agent" && a.entityId === agentId) || (a as { agentId?: string | null }).agentId === agentId;
    },
    () => {
      void agent.reload();
      void runs.reload();
      void agents.reload();
    },
  );

  if (agent.loading && agent.data === undefined) return <Loading what="Loading the agent" />;
  if (agent.error && !agent.data) return <ErrorNote error={agent.error} />;
  if (!loaded || loaded.companyId !== companyId)
    return (
      <Empty title="Agent not found">
        There is no such agent here. <Link to={`/companies/${companyId}/agents`}>See the company's agents</Link>
      </Empty>
    );

  const a = loaded;
  const manager = a.reportsTo ? (agents.data?.find((x) => x.id === a.reportsTo) ?? a.chainOfCommand.find((x) => x.id === a.reportsTo)) : undefined;
  const replace = (changed: Agent) => agent.setData((prev) => (prev ? { ...prev, ...changed } : prev));
  const spentPercent = a.budgetMonthlyCents > 0 ? (a.spentMonthlyCents / a.budgetMonthlyCents) * 100 : 0;
  const tokenPercent = a.budgetMonthlyTokens > 0 ? (a.spentMonthlyTokens / a.budgetMonthlyTokens) * 100 : 0;

  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to={`/companies/${companyId}/agents`}>Agents</Link>
        <span className="muted"> / {a.name}</span>
      </nav>
      <PageHeader
        title={a.name}
        subtitle={
          <>
            {a.title ? `${a.title} · ` : ""}
            {a.role} · hired {relative(a.createdAt)}
          </>
        }
        actions={
          <>
            <LiveDot status={live} />
            <Badge tone={agentTone(a.status)}>
              <span data-testid="agent-status">{words(a.status)}</span>
            </Badge>
          </>
        }
      />
      <div className="agent-layout">
        <div className="agent-main">
          <ConfigCard
            agent={a}
            agents={agents.data ?? []}
            secrets={secrets.data}
            secretsError={secrets.error}
            onSaved={(saved) => {
              replace(saved);
              void agent.reload();
              void agents.reload();
            }}
          />
          <KeysCard agentId={a.id} terminated={a.status === "terminated"} />
        </div>
        <aside className="agent-side">
          <Card title="Details">
            <dl className="facts agent-facts">
              <Fact label="Role">{a.role}</Fact>
              <Fact label="Title">{a.title}</Fact>
              <Fact label="Status">
                <Badge tone={agentTone(a.status)}>{words(a.status)}</Badge>
                {a.pauseReason && a.status === "paused" ? <span className="muted"> {words(a.pauseReason)}</span> : null}
              </Fact>
              <Fact label="Reports to">
                {a.reportsTo ? <Link to={`/companies/${companyId}/agents/${a.reportsTo}`}>{manager?.name ?? "its manager"}</Link> : "nobody"}
              </Fact>
              <Fact label="Adapter">
                <code>{a.adapterType}</code>
              </Fact>
              <Fact label="Last heartbeat">
                {a.lastHeartbeatAt ? <span title={dateTime(a.lastHeartbeatAt)}>{relative(a.lastHeartbeatAt)}</span> : "never"}
              </Fact>
              <Fact label="This month">
                <span>
                  {money(a.spentMonthlyCents)} {a.budgetMonthlyCents > 0 ? `of ${money(a.budgetMonthlyCents)}` : "· no budget"}
                </span>
                {a.budgetMonthlyCents > 0 ? <Meter percent={spentPercent} label="Monthly budget used" /> : null}
              </Fact>
              <Fact label="Tokens">
                <span>
                  {a.spentMonthlyTokens.toLocaleString()} {a.budgetMonthlyTokens > 0 ? `of ${a.budgetMonthlyTokens.toLocaleString()}` : "· no token budget"}
                </span>
                {a.budgetMonthlyTokens > 0 ? <Meter percent={tokenPercent} label="Token budget used" /> : null}
              </Fact>
            </dl>
          </Card>
          <Lifecycle agent={a} onChanged={replace} onRun={() => void runs.reload()} />
          <Card title="Recent runs" actions={<Link to={`/companies/${companyId}/runs${query({ agentId: a.id })}`}>All runs</Link>}>
            <ErrorNote error={runs.error} />
            {runs.data === undefined ? (
              runs.error ? null : <Loading what="Loading runs" />
            ) : runs.data.length === 0 ? (
              <p className="muted">No runs yet.</p>
            ) : (
              <ul className="plain-list agent-runs" aria-label="Recent runs">
                {runs.data.map((r) => (
                  <li key={r.id}>
                    <Link to={`/companies/${companyId}/runs/${r.id}`} aria-label={`Run ${shortId(r.id)}`}>
                      <code>{shortId(r.id)}</code>
                    </Link>
                    <Badge tone={runTone(r.status)}>{words(r.status)}</Badge>
                    <span className="muted run-when" title={dateTime(r.createdAt)}>
                      {sourceText(r)} · {relative(r.createdAt)}
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </Card>
        </aside>
      </div>
    </>
  );
}

function Lifecycle({ agent: a, onChanged, onRun }: { agent: AgentDetailData; onChanged: (a: Agent) => void; onRun: () => void }) {
  const action = useAction();
  const [said, setSaid] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const terminated = a.status === "terminated";
  const pending = a.status === "pending_approval";

  const act = async (path: string, done: (answer: unknown) => string) => {
    setSaid(null);
    const answer = await action.run(async () => {
      const answer = await post<unknown>(`/agents/${a.id}/${path}`);
      onChanged(await get<Agent>(`/agents/${a.id}`));
      return answer ?? {};
    });
    if (answer !== undefined) setSaid(done(answer));
  };

  return (
    <Card title="Actions">
      {terminated ? (
        <p className="muted">Terminated: this is final. Its runs were stopped and it takes no more work.</p>
      ) : (
        <div className="row-line">
          {a.status === "paused" ? (
            <Button variant="secondary" pending={action.pending} onClick={() => act("resume", () => "Resumed.")}>
              Resume
            </Button>
          ) : (
            <Button variant="secondary" pending={action.pending} disabled={pending} onClick={() => act("pause", () => "Paused.")}>
              Pause
            </Button>
          )}
          <Button
            variant="secondary"
            pending={action.pending}
            disabled={pending}
            title="Wake the agent now"
            onClick={() =>
              act("heartbeat/invoke", (answer) => {
                onRun();
                const r = answer as { status?: string; message?: string; reason?: string };
                if (r.status === "skipped") return `Not woken${r.message ? `: ${r.message}` : r.reason ? ` (${words(r.reason)})` : "."}`;
                return `Heartbeat run ${r.status ? words(r.status) : "queued"}.`;
              })
            }
          >
            Invoke
          </Button>
          {confirming ? (
            <>
              <Button
                variant="danger"
                pending={action.pending}
                onClick={() => {
                  setConfirming(false);
                  void act("terminate", () => "Terminated.");
                }}
              >
                Terminate now
              </Button>
              <Button variant="ghost" onClick={() => setConfirming(false)}>
                Keep
              </Button>
            </>
          ) : (
            <Button variant="danger" onClick={() => setConfirming(true)}>
              Terminate
            </Button>
          )}
        </div>
      )}
      {confirming ? <Note kind="warning">Terminating stops its runs and cannot be undone.</Note> : null}
      <ErrorNote error={action.error} />
      {said ? <Note>{said}</Note> : null}
    </Card>
  );
}

function KeysCard({ agentId, terminated }: { agentId: string; terminated: boolean }) {
  const keys = useData(() => get<AgentKey[]>(`/agents/${agentId}/keys`), [agentId]);
  const [name, setName] = useState("");
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const made = await action.run(() => post<CreatedKey>(`/agents/${agentId}/keys`, { name: name.trim() || undefined }));
    if (made) {
      setCreated(made);
      setName("");
      void keys.reload();
    }
  };
  const list = keys.data ?? [];

  return (
    <Card title="API keys">
      <p className="hint">An agent outside a heartbeat (a script, another machine) signs its requests with one of these.</p>
      {created ? (
        <div className="created-key">
          <Note kind="success">Key “{created.name}” made. Copy the token now: it is shown once.</Note>
          <SecretValue value={created.token} label={`Token of ${created.name}`} />
          <div>
            <Button variant="secondary" onClick={() => setCreated(null)}>
              Done
            </Button>
          </div>
        </div>
      ) : null}
      <ErrorNote error={keys.error} />
      {keys.data === undefined ? (
        keys.error ? null : <Loading what="Loading keys" />
      ) : list.length === 0 ? (
        <p className="muted">No keys.</p>
      ) : (
        <table className="table" aria-label="Agent API keys">
          <thead>
            <tr>
              <th>Name</th>
              <th>State</th>
              <th>Created</th>
              <th>Last used</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((k) => (
              <KeyRow key={k.id} agentId={agentId} k={k} onRevoked={() => void keys.reload()} />
            ))}
          </tbody>
        </table>
      )}
      {terminated ? null : (
        <form onSubmit={submit} aria-label="New agent key" className="key-form">
          <Field label="Key name" htmlFor="agent-key-name">
            <input id="agent-key-name" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} placeholder="default" autoComplete="off" />
          </Field>
          <Button type="submit" pending={action.pending}>
            Create key
          </Button>
        </form>
      )}
      <ErrorNote error={action.error} />
    </Card>
  );
}

function KeyRow({ agentId, k, onRevoked }: { agentId: string; k: AgentKey; onRevoked: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const action = useAction();
  const revoke = async () => {
    const done = await action.run(() => del(`/agents/${agentId}/keys/${k.id}`));
    setConfirming(false);
    if (done !== undefined) onRevoked();
  };
  return (
    <>
      <tr>
        <td>{k.name}</td>
        <td>{k.revokedAt ? <Badge tone="neutral">revoked</Badge> : <Badge tone="good">active</Badge>}</td>
        <td className="muted nowrap" title={dateTime(k.createdAt)}>
          {relative(k.createdAt)}
        </td>
        <td className="muted nowrap">{k.lastUsedAt ? relative(k.lastUsedAt) : "never"}</td>
        <td>
          {k.revokedAt ? null : (
            <div className="row-actions">
              <ConfirmAction
                confirming={confirming}
                setConfirming={setConfirming}
                onConfirm={() => void revoke()}
                pending={action.pending}
                label="Revoke"
                ariaLabel={`Revoke ${k.name}`}
                confirmLabel="Revoke now"
              />
            </div>
          )}
        </td>
      </tr>
      {action.error ? (
        <RowMessage colSpan={5}>
          <ErrorNote error={action.error} />
        </RowMessage>
      ) : null}
    </>
  );
}
