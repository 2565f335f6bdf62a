// "/companies/:companyId/issues/:issueId" (a UUID or an identifier like ACM-1): one issue with
// its context, its status, priority and assignee changed in place, and its conversation.
import { useEffect, useState, type FormEvent, type ReactNode } from "react";
import { get, patch, post, query } from "../../api";
import { Badge, Button, Card, Empty, ErrorNote, Field, Loading, PageHeader, Options } from "../../components/ui";
import { CommentList } from "./comments";
import { LiveDot } from "../../components/live-dot";
import { Fact } from "../../components/figures";
import { dateTime, relative } from "../../format";
import { useAction, useData } from "../../hooks";
import { activityOf, useLiveReload } from "../../live";
import { Link, navigate } from "../../router";
import { useSession } from "../../session";
import { issueTone, orNotFound, words, ISSUE_STATUSES, PRIORITIES, type Agent, type Comment, type IssueDetail as Detail, type IssueRef } from "./types";
import "./company.css";

export function IssueDetail({ params }: { params: Record<string, string> }) {
  const { companyId, issueId } = params;
  const issue = useData(() => orNotFound(get<Detail>(`/issues/${encodeURIComponent(issueId)}`)), [issueId]);
  const agents = useData(() => orNotFound(get<Agent[]>(`/companies/${companyId}/agents`)), [companyId]);
  const change = useAction();
  // Bumped when the conversation may have changed elsewhere: the comments load again.
  const [commentsVersion, setCommentsVersion] = useState(0);

  const loaded = issue.data;
  // Activity about this issue (a change, a comment, a checkout) by anyone: reload it and its
  // comments once a burst has settled.
  const live = useLiveReload(
    loaded === null ? undefined : companyId,
    (e) => {
      const a = activityOf(e);
      return a?.entityType === "issue" && a.entityId === loaded?.id;
    },
    () => {
      void issue.reload();
      setCommentsVersion((v) => v + 1);
    },
  );
  // An issue reached under another company's address (a pasted UUID): show it where it lives.
  useEffect(() => {
    if (loaded && loaded.companyId !== companyId) navigate(`/companies/${loaded.companyId}/issues/${loaded.identifier}`, { replace: true });
  }, [loaded, companyId]);

  if (issue.loading && issue.data === undefined) return <Loading what="Loading the issue" />;
  if (issue.error && !issue.data) return <ErrorNote error={issue.error} />;
  if (!loaded)
    return (
      <Empty title="Issue not found">
        There is no issue {issueId} here. <Link to={`/companies/${companyId}/issues`}>See the company's issues</Link>
      </Empty>
    );

  const agentList = agents.data ?? [];
  const agentName = (id: string | null) => agentList.find((a) => a.id === id)?.name;
  const issuePath = (ref: IssueRef) => `/companies/${loaded.companyId}/issues/${ref.identifier}`;

  // One field at a time, saved as soon as it is picked; a refusal (a 422 naming the rule)
  // leaves the issue as the server has it, so the select falls back by itself.
  const update = async (body: Record<string, unknown>) => {
    const updated = await change.run(() => patch<Detail>(`/issues/${loaded.id}`, body));
    if (updated) issue.setData((prev) => (prev ? { ...prev, ...updated } : prev));
  };

  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to={`/companies/${loaded.companyId}/issues`}>Issues</Link>
        {/* The server lists ancestors nearest first; a breadcrumb reads from the top. */}
        {[...loaded.ancestors].reverse().map((a) => (
          <span key={a.id}>
            {" / "}
            <Link to={issuePath(a)}>{a.identifier}</Link>
          </span>
        ))}
        <span className="muted"> / {loaded.identifier}</span>
      </nav>
      <PageHeader
        title={loaded.title}
        subtitle={
          <>
            <code>{loaded.identifier}</code> · opened {relative(loaded.createdAt)} · updated {relative(loaded.updatedAt)}
          </>
        }
        actions={
          <>
            <LiveDot status={live} />
            <Badge tone={issueTone(loaded.status)}>
              <span data-testid="issue-status">{words(loaded.status)}</span>
            </Badge>
          </>
        }
      />
      <div className="issue-layout">
        <div className="issue-main">
          <Card title="Description">
            {loaded.description ? <p className="prose">{loaded.description}</p> : <p className="muted">No description.</p>}
          </Card>
          <Comments issueId={loaded.id} agentName={agentName} version={commentsVersion} />
        </div>
        <aside className="issue-side">
          <Card title="Details">
            <div className="field-stack">
              <Field label="Status" htmlFor="issue-status">
                <select id="issue-status" value={loaded.status} disabled={change.pending} onChange={(e) => void update({ status: e.target.value })}>
                  <Options values={ISSUE_STATUSES} label={words} />
                </select>
              </Field>
              <Field label="Priority" htmlFor="issue-priority">
                <select id="issue-priority" value={loaded.priority} disabled={change.pending} onChange={(e) => void update({ priority: e.target.value })}>
                  <Options values={PRIORITIES} />
                </select>
              </Field>
              <Field label="Assignee" htmlFor="issue-assignee" hint={loaded.assigneeUserId ? `Assigned to a person (${loaded.assigneeUserId}).` : undefined}>
                <select
                  id="issue-assignee"
                  value={loaded.assigneeAgentId ?? ""}
                  disabled={change.pending}
                  onChange={(e) => void update({ assigneeAgentId: e.target.value || null })}
                >
                  <option value="">Unassigned</option>
                  {agentList.map((a) => (
                    <option key={a.id} value={a.id}>
                      {a.name}
                    </option>
                  ))}
                  {loaded.assigneeAgentId && !agentName(loaded.assigneeAgentId) ? (
                    <option value={loaded.assigneeAgentId}>a former agent</option>
                  ) : null}
                </select>
              </Field>
              <ErrorNote error={change.error} />
            </div>
            <dl className="facts">
              <Fact label="Project">{loaded.project?.name}</Fact>
              <Fact label="Goal">{loaded.goal?.title}</Fact>
              <Fact label="Parent">{loaded.ancestors.length ? <RefLink to={issuePath(loaded.ancestors[0])} issue={loaded.ancestors[0]} /> : null}</Fact>
              <Fact label="Blocked by">{refs(loaded.blockedBy, issuePath)}</Fact>
              <Fact label="Blocks">{refs(loaded.blocks, issuePath)}</Fact>
              <Fact label="Created">{dateTime(loaded.createdAt)}</Fact>
              <Fact label="Started">{loaded.startedAt ? dateTime(loaded.startedAt) : null}</Fact>
              <Fact label="Completed">{loaded.completedAt ? dateTime(loaded.completedAt) : null}</Fact>
              <Fact label="Cancelled">{loaded.cancelledAt ? dateTime(loaded.cancelledAt) : null}</Fact>
            </dl>
          </Card>
        </aside>
      </div>
    </>
  );
}


function RefLink({ to, issue }: { to: string; issue: IssueRef }) {
  return (
    <span className="ref">
      <Link to={to}>{issue.identifier}</Link> <Badge tone={issueTone(issue.status)}>{words(issue.status)}</Badge>
      <span className="muted ref-title">{issue.title}</span>
    </span>
  );
}

function refs(list: IssueRef[], path: (r: IssueRef) => string): ReactNode {
  if (list.length === 0) return null;
  return (
    <ul className="plain-list">
      {list.map((r) => (
        <li key={r.id}>
          <RefLink to={path(r)} issue={r} />
        </li>
      ))}
    </ul>
  );
}

function Comments({ issueId, agentName, version }: { issueId: string; agentName: (id: string | null) => string | undefined; version: number }) {
  const comments = useData(() => get<Comment[]>(`/issues/${issueId}/comments${query({ order: "asc" })}`), [issueId, version]);
  const me = useSession().session?.user.id;
  const [body, setBody] = useState("");
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const posted = await action.run(() => post<Comment>(`/issues/${issueId}/comments`, { body }));
    if (posted) {
      setBody("");
      comments.setData((prev) => [...(prev ?? []), posted]);
    }
  };

  const author = (c: Comment) =>
    c.authorAgentId ? (agentName(c.authorAgentId) ?? "An agent") : c.authorUserId && c.authorUserId === me ? "You" : "The board";
  const list = comments.data ?? [];

  return (
    <Card title={list.length ? `Comments (${list.length})` : "Comments"}>
      <ErrorNote error={comments.error} />
      {comments.data === undefined && !comments.error ? (
        <Loading what="Loading comments" />
      ) : list.length === 0 ? (
        <p className="muted">No comments yet.</p>
      ) : (
        <CommentList comments={list} author={author} />
      )}
      <form onSubmit={submit} aria-label="New comment">
        <Field label="Add a comment" htmlFor="comment-body" hint="The assigned agent is woken to read it.">
          <textarea id="comment-body" value={body} onChange={(e) => setBody(e.target.value)} required />
        </Field>
        <ErrorNote error={action.error} />
        <div className="form-actions">
          <Button type="submit" pending={action.pending} disabled={!body.trim()}>
            Post comment
          </Button>
        </div>
      </form>
    </Card>
  );
}
