// "/companies/:companyId/issues": the company's issues, filtered by status and words, a page
// at a time, and the form that files a new one (optionally assigned to an agent).
import { useEffect, useState, type FormEvent } from "react";
import { get, post, query } from "../../api";
import { Badge, Button, Card, Empty, ErrorNote, Field, Loading, Note, PageHeader, Options } from "../../components/ui";
import { LiveDot } from "../../components/live-dot";
import { dateTime, relative } from "../../format";
import { useAction, useData } from "../../hooks";
import { activityOf, useLiveReload } from "../../live";
import { Link } from "../../router";
import { CompanyNotFound } from "./not-found";
import { issueTone, orNotFound, words, ISSUE_STATUSES, PRIORITIES, type Agent, type Issue } from "./types";
import "./company.css";

const PAGE = 50;
/** The "Open" filter: every status an issue can still move from without reopening. */
const OPEN = "backlog,todo,in_progress,in_review,blocked";

export function Issues({ params }: { params: Record<string, string> }) {
  const id = params.companyId;
  const initial = new URLSearchParams(window.location.search);
  const [status, setStatus] = useState(initial.get("status") ?? "");
  const [typed, setTyped] = useState(initial.get("q") ?? "");
  const [q, setQ] = useState(typed);
  const [offset, setOffset] = useState(0);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<Issue | null>(null);

  // Search as the person types, but ask the server once they pause.
  useEffect(() => {
    const t = setTimeout(() => {
      setQ(typed.trim());
      setOffset(0);
    }, 250);
    return () => clearTimeout(t);
  }, [typed]);
  // Filters live in the address too, so a filtered list can be reloaded or shared.
  useEffect(() => {
    history.replaceState(null, "", `${window.location.pathname}${query({ status, q })}`);
  }, [status, q]);

  const issues = useData(
    () => orNotFound(get<Issue[]>(`/companies/${id}/issues${query({ status, q, limit: PAGE, offset })}`)),
    [id, status, q, offset],
  );
  const agents = useData(() => orNotFound(get<Agent[]>(`/companies/${id}/agents`)), [id]);
  // An issue created, changed or commented on anywhere: the page as filtered, reloaded once.
  const live = useLiveReload(
    issues.data === null ? undefined : id,
    (e) => activityOf(e)?.entityType === "issue",
    () => void issues.reload(),
  );

  if (issues.data === null || agents.data === null) return <CompanyNotFound />;
  const list = issues.data ?? [];
  const agentName = (agentId: string | null) => agents.data?.find((a) => a.id === agentId)?.name;
  const filtered = status !== "" || q !== "";

  return (
    <>
      <PageHeader
        title="Issues"
        subtitle="Work for the company's agents: assign an issue to wake its agent."
        actions={
          <>
            <LiveDot status={live} />
            <Button variant={creating ? "secondary" : "primary"} onClick={() => setCreating(!creating)} aria-expanded={creating}>
              {creating ? "Close form" : "New issue"}
            </Button>
          </>
        }
      />
      {creating ? (
        <NewIssue
          companyId={id}
          agents={agents.data ?? []}
          onCreated={(issue) => {
            setCreated(issue);
            setCreating(false);
            void issues.reload();
          }}
        />
      ) : null}
      {created ? (
        <Note kind="success">
          Created <Link to={`/companies/${id}/issues/${created.identifier}`}>{created.identifier}</Link>: {created.title}
        </Note>
      ) : null}

      <Card>
        <div className="filters" role="search">
          <Field label="Status" htmlFor="issue-filter-status">
            <select id="issue-filter-status" value={status} onChange={(e) => {
                setStatus(e.target.value);
                setOffset(0);
              }}
            >
              <option value="">All statuses</option>
              <option value={OPEN}>Open</option>
              <Options values={ISSUE_STATUSES} label={words} />
            </select>
          </Field>
          <Field label="Search" htmlFor="issue-filter-q">
            <input id="issue-filter-q" type="search" placeholder="Title or identifier" value={typed} onChange={(e) => setTyped(e.target.value)} />
          </Field>
          {issues.loading && issues.data ? <span className="spinner muted filters-spinner" aria-label="Refreshing" /> : null}
        </div>
        <ErrorNote error={issues.error} />
        {issues.data === undefined ? (
          issues.error ? null : <Loading what="Loading issues" />
        ) : list.length === 0 ? (
          offset > 0 ? (
            <Empty title="No more issues" />
          ) : filtered ? (
            <Empty title="No issues match">Try another status or fewer words.</Empty>
          ) : (
            <Empty title="No issues yet">File the first one with “New issue”; assign it to an agent to get it started.</Empty>
          )
        ) : (
          <table className="table" aria-label="Issues">
            <thead>
              <tr>
                <th>ID</th>
                <th>Title</th>
                <th>Status</th>
                <th>Priority</th>
                <th>Assignee</th>
                <th>Updated</th>
              </tr>
            </thead>
            <tbody>
              {list.map((issue) => (
                <tr key={issue.id}>
                  <td className="nowrap">
                    <Link to={`/companies/${id}/issues/${issue.identifier}`}>
                      <code>{issue.identifier}</code>
                    </Link>
                  </td>
                  <td>
                    <Link to={`/companies/${id}/issues/${issue.identifier}`} className="strong-link">
                      {issue.title}
                    </Link>
                  </td>
                  <td>
                    <Badge tone={issueTone(issue.status)}>{words(issue.status)}</Badge>
                  </td>
                  <td>
                    <span className={`priority priority-${issue.priority}`}>{issue.priority}</span>
                  </td>
                  <td>{issue.assigneeAgentId ? (agentName(issue.assigneeAgentId) ?? "an agent") : issue.assigneeUserId ? "a person" : <span className="muted">unassigned</span>}</td>
                  <td className="muted nowrap" title={dateTime(issue.updatedAt)}>
                    {relative(issue.updatedAt)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {offset > 0 || list.length === PAGE ? (
          <div className="pager">
            <Button variant="secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
              Previous
            </Button>
            <span className="muted">
              {list.length ? `${offset + 1}–${offset + list.length}` : `from ${offset + 1}`}
            </span>
            <Button variant="secondary" disabled={list.length < PAGE} onClick={() => setOffset(offset + PAGE)}>
              Next
            </Button>
          </div>
        ) : null}
      </Card>
    </>
  );
}

function NewIssue({ companyId, agents, onCreated }: { companyId: string; agents: Agent[]; onCreated: (issue: Issue) => void }) {
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [priority, setPriority] = useState("medium");
  const [assignee, setAssignee] = useState("");
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const issue = await action.run(() =>
      post<Issue>(`/companies/${companyId}/issues`, {
        title: title.trim(),
        description: description.trim() || undefined,
        priority,
        assigneeAgentId: assignee || undefined,
      }),
    );
    if (issue) onCreated(issue);
  };

  return (
    <Card title="New issue">
      <form onSubmit={submit} aria-label="New issue">
        <Field label="Title" htmlFor="issue-title">
          <input id="issue-title" value={title} onChange={(e) => setTitle(e.target.value)} required maxLength={500} autoComplete="off" autoFocus />
        </Field>
        <Field label="Description" htmlFor="issue-description" hint="What done looks like; the agent reads this.">
          <textarea id="issue-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <div className="form-row top">
          <Field label="Priority" htmlFor="issue-priority">
            <select id="issue-priority" value={priority} onChange={(e) => setPriority(e.target.value)}>
              <Options values={PRIORITIES} />
            </select>
          </Field>
          <Field
            label="Assignee"
            htmlFor="issue-assignee"
            hint={agents.length ? "An assigned issue starts in todo, an unassigned one in backlog." : "Hire an agent to assign work."}
          >
            <select id="issue-assignee" value={assignee} onChange={(e) => setAssignee(e.target.value)}>
              <option value="">Unassigned</option>
              {agents.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name}
                  {a.status === "paused" || a.status === "pending_approval" ? ` (${words(a.status)})` : ""}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <ErrorNote error={action.error} />
        <div className="form-actions">
          <Button type="submit" pending={action.pending}>
            Create issue
          </Button>
        </div>
      </form>
    </Card>
  );
}
