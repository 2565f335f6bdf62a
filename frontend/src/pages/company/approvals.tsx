// "/companies/:companyId/approvals": what waits for the board (hires, the CEO's strategy, what
// agents ask for, budget overrides), each decided in place with an optional note, and the
// conversation and linked issues of each one.
import { useEffect, useState, type FormEvent, type ReactNode } from "react";
import { ApiError, get, post, query } from "../../api";
import { Badge, Button, Empty, ErrorNote, Field, Loading, PageHeader, Options } from "../../components/ui";
import { CommentList } from "./comments";
import { Fact } from "../../components/figures";
import { dateTime, money, relative } from "../../format";
import { useAction, useData } from "../../hooks";
import { Link } from "../../router";
import { useSession } from "../../session";
import { CompanyNotFound } from "./not-found";
import { agentTone, issueTone, orNotFound, words, type Agent, type Issue } from "./types";
import {
  APPROVAL_STATUSES,
  approvalTone,
  approvalType,
  isOpen,
  type Approval,
  type ApprovalComment,
} from "./governance-types";
import "./company.css";
import "./governance.css";

/** The filter's "All": the server lists every status when none is asked for. */
const ALL = "all";

type AgentOf = (id: string | null | undefined) => Agent | undefined;

export function Approvals({ params }: { params: Record<string, string> }) {
  const id = params.companyId;
  const [status, setStatus] = useState(new URLSearchParams(window.location.search).get("status") ?? "pending");
  // The filter lives in the address too (pending, the default, is left out).
  useEffect(() => {
    history.replaceState(null, "", `${window.location.pathname}${query({ status: status === "pending" ? undefined : status })}`);
  }, [status]);

  const approvals = useData(
    () => orNotFound(get<Approval[]>(`/companies/${id}/approvals${query({ status: status === ALL ? undefined : status })}`)),
    [id, status],
  );
  const agents = useData(() => orNotFound(get<Agent[]>(`/companies/${id}/agents`)), [id]);

  // The agents list leaves terminated ones out (a rejected hire, a requester since let go):
  // those few are asked for one by one so every approval can still name its agents (a hire's
  // payload, and a budget override's, carry the agent as `agentId`).
  const listed = agents.data ?? [];
  const missing = [
    ...new Set(
      (approvals.data ?? [])
        .flatMap((a) => [a.requestedByAgentId, text(a.payload.agentId)])
        .filter((x): x is string => !!x && !listed.some((g) => g.id === x)),
    ),
  ].sort();
  const others = useData(
    async () => (await Promise.all(missing.map((m) => orNotFound(get<Agent>(`/agents/${m}`))))).filter((a): a is Agent => a !== null),
    [agents.data === undefined ? "" : missing.join(",")],
  );
  const agentOf: AgentOf = (agentId) => (agentId ? (listed.find((a) => a.id === agentId) ?? others.data?.find((a) => a.id === agentId)) : undefined);

  if (approvals.data === null || agents.data === null) return <CompanyNotFound />;
  const list = approvals.data ?? [];
  // From the latest list, not this render's: two decisions may finish in either order.
  const replace = (approval: Approval) => {
    approvals.setData((prev) => prev?.map((a) => (a.id === approval.id ? approval : a)));
    // A decided hire changed its agent (active, or terminated): show it as it now is.
    if (approval.type === "hire_agent") void agents.reload();
  };

  return (
    <>
      <PageHeader
        title="Approvals"
        subtitle="What waits for the board: hires, the CEO's strategy, and what agents ask for."
        actions={
          <div className="field header-field" role="search">
            <label htmlFor="approval-filter-status">Status</label>
            <select id="approval-filter-status" value={status} onChange={(e) => setStatus(e.target.value)}>
              <Options values={APPROVAL_STATUSES} label={words} />
              <option value={ALL}>All</option>
            </select>
          </div>
        }
      />
      <ErrorNote error={approvals.error ?? agents.error} />
      {approvals.data === undefined ? (
        approvals.error ? null : <Loading what="Loading approvals" />
      ) : list.length === 0 ? (
        status === "pending" ? (
          <Empty title="Nothing waits for the board">
            Hires in a company that approves new agents, and what agents ask for, show up here.
          </Empty>
        ) : (
          <Empty title={status === ALL ? "No approvals yet" : `No ${words(status)} approvals`} />
        )
      ) : (
        <div className="approval-list">
          {list.map((a) => (
            <ApprovalItem key={a.id} approval={a} agentOf={agentOf} companyId={id} onChanged={replace} />
          ))}
        </div>
      )}
    </>
  );
}

/** The agent a hire concerns (agent-hires puts its id in the payload). */
function hiredAgentId(a: Approval): string | null {
  const v = a.type === "hire_agent" ? a.payload.agentId : undefined;
  return typeof v === "string" ? v : null;
}

function text(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() ? v.trim() : undefined;
}

/** What the approval is about, in a few words ("Budget override for Eve" when the payload
 * names an agent and nothing else). */
function headline(a: Approval, agentOf: AgentOf): string {
  const p = a.payload;
  if (a.type === "hire_agent") return `Hire ${text(p.name) ?? "an agent"}`;
  const about = agentOf(text(p.agentId))?.name;
  return text(p.title) ?? text(p.summary) ?? (about ? `${approvalType(a.type)} for ${about}` : approvalType(a.type));
}

function ApprovalItem({
  approval: a,
  agentOf,
  companyId,
  onChanged,
}: {
  approval: Approval;
  agentOf: AgentOf;
  companyId: string;
  onChanged: (a: Approval) => void;
}) {
  const me = useSession().session?.user.id;
  const [note, setNote] = useState("");
  const [open, setOpen] = useState(false);
  const action = useAction();
  const title = headline(a, agentOf);
  const person = (userId: string | null) => (userId && userId === me ? "you" : "the board");
  const asker = a.requestedByAgentId ? (agentOf(a.requestedByAgentId)?.name ?? "an agent") : person(a.requestedByUserId);

  const decide = async (verb: "approve" | "reject" | "request-revision") => {
    const decided = await action.run(async () => {
      try {
        return await post<Approval>(`/approvals/${a.id}/${verb}`, { decisionNote: note.trim() || undefined });
      } catch (e) {
        // Decided meanwhile (another tab, another board member): show what it became beside
        // the server's sentence.
        if (e instanceof ApiError && e.status === 422) {
          const now = await get<Approval>(`/approvals/${a.id}`).catch(() => null);
          if (now) onChanged(now);
        }
        throw e;
      }
    });
    if (decided) {
      setNote("");
      onChanged(decided);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void decide("approve");
  };

  return (
    <section className="card approval" aria-label={title}>
      <div className="approval-head">
        <div className="approval-title">
          <span className="stat-label">{approvalType(a.type)}</span>
          <h2>{title}</h2>
          <span className="muted cell-sub">
            Asked by {asker} ·{" "}
            <time dateTime={a.createdAt} title={dateTime(a.createdAt)}>
              {relative(a.createdAt)}
            </time>
          </span>
        </div>
        <Badge tone={approvalTone(a.status)}>
          <span data-testid="approval-status">{words(a.status)}</span>
        </Badge>
      </div>

      {a.type === "hire_agent" ? <HireSummary approval={a} agentOf={agentOf} /> : <PayloadSummary payload={a.payload} agentOf={agentOf} />}

      {a.decidedAt && a.status !== "pending" ? (
        <div className={`decision decision-${approvalTone(a.status)}`}>
          <span>
            {a.status === "revision_requested" ? "Revision requested" : words(a.status).replace(/^./, (c) => c.toUpperCase())} by{" "}
            {person(a.decidedByUserId)} ·{" "}
            <time dateTime={a.decidedAt} title={dateTime(a.decidedAt)}>
              {relative(a.decidedAt)}
            </time>
          </span>
          {a.decisionNote ? <p className="prose" data-testid="decision-note">{a.decisionNote}</p> : null}
        </div>
      ) : null}

      {isOpen(a.status) ? (
        <form className="decide" onSubmit={submit} aria-label={`Decide: ${title}`}>
          <Field label="Decision note" htmlFor={`note-${a.id}`}>
            <input
              id={`note-${a.id}`}
              value={note}
              onChange={(e) => setNote(e.target.value)}
              maxLength={20_000}
              placeholder="Optional: why, or what to change"
              autoComplete="off"
            />
          </Field>
          <div className="decide-buttons">
            <Button type="submit" pending={action.pending}>
              Approve
            </Button>
            {a.status === "pending" ? (
              // The server sends back only a pending request (a revision_requested one waits
              // for the requester's resubmit).
              <Button type="button" variant="secondary" pending={action.pending} onClick={() => void decide("request-revision")}>
                Request revision
              </Button>
            ) : null}
            <Button type="button" variant="danger" pending={action.pending} onClick={() => void decide("reject")}>
              Reject
            </Button>
          </div>
        </form>
      ) : null}
      <ErrorNote error={action.error} />

      <div>
        <Button variant="ghost" className="btn btn-ghost disclosure" onClick={() => setOpen(!open)} aria-expanded={open}>
          {open ? "Hide comments and details" : "Comments and details"}
        </Button>
      </div>
      {open ? <ApprovalDetail approval={a} agentOf={agentOf} companyId={companyId} /> : null}
    </section>
  );
}

/** A hire: the proposed agent as the payload describes it, and what became of it. */
function HireSummary({ approval: a, agentOf }: { approval: Approval; agentOf: AgentOf }) {
  const p = a.payload;
  const agent = agentOf(hiredAgentId(a));
  const budget = typeof p.budgetMonthlyCents === "number" && p.budgetMonthlyCents > 0 ? money(p.budgetMonthlyCents) : null;
  const manager = text(p.reportsTo) ? (agentOf(text(p.reportsTo))?.name ?? "another agent") : null;
  return (
    <dl className="facts payload">
      <Fact label="Name">{text(p.name)}</Fact>
      <Fact label="Role">{text(p.role)}</Fact>
      <Fact label="Title">{text(p.title)}</Fact>
      <Fact label="Adapter">{text(p.adapterType) ? <code>{text(p.adapterType)}</code> : null}</Fact>
      <Fact label="Reports to">{manager}</Fact>
      <Fact label="Monthly budget">{budget}</Fact>
      <Fact label="Capabilities">{text(p.capabilities)}</Fact>
      <Fact label="Agent now">{agent ? <Badge tone={agentTone(agent.status)}>{words(agent.status)}</Badge> : null}</Fact>
    </dl>
  );
}


const SHOWN_FIELDS = 8;
const LONG_TEXT = 400;

/** Any other payload, compactly: its first fields as words and short values; the whole of it
 * as JSON under "Comments and details". */
function PayloadSummary({ payload, agentOf }: { payload: Record<string, unknown>; agentOf: AgentOf }) {
  const fields = Object.entries(payload).filter(([k, v]) => k !== "title" && v !== null && v !== undefined && v !== "");
  if (fields.length === 0) return null;
  const shown = fields.slice(0, SHOWN_FIELDS);
  return (
    <dl className="facts payload">
      {shown.map(([k, v]) => (
        <Fact key={k} label={fieldName(k)}>
          {value(k, v, agentOf)}
        </Fact>
      ))}
      {fields.length > shown.length ? (
        <Fact label="…">
          <span className="muted">{fields.length - shown.length} more fields under “Comments and details”</span>
        </Fact>
      ) : null}
    </dl>
  );
}

/** "budgetMonthlyCents" → "Budget monthly" (shown as dollars), "agentId" → "Agent" (by name). */
function fieldName(key: string): string {
  const w = key
    .replace(/_/g, " ")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .replace(/ (cents|id)$/, "");
  return w.charAt(0).toUpperCase() + w.slice(1);
}

function value(key: string, v: unknown, agentOf: AgentOf): ReactNode {
  if (typeof v === "number" && /cents$/i.test(key)) return money(v);
  // An agent's id reads as its name where the page knows it.
  if (typeof v === "string" && /agentId$/i.test(key) && agentOf(v)) return agentOf(v)?.name;
  if (typeof v === "string") return <span className="prose">{v.length > LONG_TEXT ? `${v.slice(0, LONG_TEXT)}…` : v}</span>;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x !== "object" || x === null)) return v.join(", ");
  const json = JSON.stringify(v);
  return <code className="payload-inline">{json.length > 160 ? `${json.slice(0, 160)}…` : json}</code>;
}

/** Opened on demand: the conversation, the linked issues and the payload as sent. */
function ApprovalDetail({ approval: a, agentOf, companyId }: { approval: Approval; agentOf: AgentOf; companyId: string }) {
  const comments = useData(() => get<ApprovalComment[]>(`/approvals/${a.id}/comments`), [a.id]);
  const issues = useData(() => get<Issue[]>(`/approvals/${a.id}/issues`), [a.id]);
  const me = useSession().session?.user.id;
  const [body, setBody] = useState("");
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const posted = await action.run(() => post<ApprovalComment>(`/approvals/${a.id}/comments`, { body }));
    if (posted) {
      setBody("");
      comments.setData((prev) => [...(prev ?? []), posted]);
    }
  };
  const author = (c: ApprovalComment) =>
    c.authorAgentId ? (agentOf(c.authorAgentId)?.name ?? "An agent") : c.authorUserId && c.authorUserId === me ? "You" : "The board";
  const list = comments.data ?? [];

  return (
    <div className="approval-detail">
      {issues.data && issues.data.length > 0 ? (
        <div>
          <h3 className="detail-head">Linked issues</h3>
          <ul className="plain-list linked">
            {issues.data.map((i) => (
              <li key={i.id} className="row-line">
                <Link to={`/companies/${companyId}/issues/${i.identifier}`}>
                  <code>{i.identifier}</code>
                </Link>
                <span>{i.title}</span>
                <Badge tone={issueTone(i.status)}>{words(i.status)}</Badge>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <ErrorNote error={issues.error} />

      <div>
        <h3 className="detail-head">{list.length ? `Comments (${list.length})` : "Comments"}</h3>
        <ErrorNote error={comments.error} />
        {comments.data === undefined && !comments.error ? (
          <Loading what="Loading comments" />
        ) : list.length === 0 ? (
          <p className="muted no-margin">No comments yet.</p>
        ) : (
          <CommentList comments={list} author={author} />
        )}
      </div>
      <form onSubmit={submit} aria-label="New comment">
        <Field label="Add a comment" htmlFor={`comment-${a.id}`}>
          <textarea id={`comment-${a.id}`} value={body} onChange={(e) => setBody(e.target.value)} required />
        </Field>
        <ErrorNote error={action.error} />
        <div className="form-actions">
          <Button type="submit" variant="secondary" pending={action.pending} disabled={!body.trim()}>
            Post comment
          </Button>
        </div>
      </form>

      <details className="payload-raw">
        <summary>Payload as sent</summary>
        <pre>{JSON.stringify(a.payload, null, 2)}</pre>
      </details>
    </div>
  );
}
