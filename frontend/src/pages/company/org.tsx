// "/companies/:companyId/org": who reports to whom, drawn top-down from GET /companies/:id/org
// (the roots, each with its `reports`). Nested lists, so the tree reads as one to a screen
// reader too; the connecting lines are CSS (org.css). Live: statuses and managers follow.
import { useEffect, useRef } from "react";
import { get } from "../../api";
import { LiveDot } from "../../components/live-dot";
import { Badge, Card, Empty, ErrorNote, Loading, PageHeader } from "../../components/ui";
import { useData } from "../../hooks";
import { activityOf, useDebounced, useLiveEvents, RESYNC } from "../../live";
import { Link } from "../../router";
import { CompanyNotFound } from "./not-found";
import { agentTone, orNotFound, words, type AgentRole, type AgentStatus } from "./types";
import "./company.css";
import "./org.css";

/** shared/src/types/agent.rs OrgNode. */
interface OrgNode {
  id: string;
  name: string;
  role: AgentRole;
  title: string | null;
  status: AgentStatus;
  reports: OrgNode[];
}

export function Org({ params }: { params: Record<string, string> }) {
  const id = params.companyId;
  const org = useData(() => orNotFound(get<OrgNode[]>(`/companies/${id}/org`)), [id]);

  // Hires, managers and terminations change the tree: reload it; a status only recolours a card.
  const refresh = useDebounced(() => void org.reload());
  const live = useLiveEvents(org.data === null ? undefined : id, (e) => {
    const a = activityOf(e);
    if (e.type === RESYNC || (a && (a.entityType === "agent" || a.entityType === "approval"))) refresh();
    if (e.type === "agent.status") {
      refresh();
      const { agentId, status } = (e.payload ?? {}) as { agentId?: string; status?: AgentStatus };
      if (agentId && status) org.setData((prev) => prev && withStatus(prev, agentId, status));
    }
  });

  // A tree wider than the page scrolls; it opens on its middle, where the top of the tree is.
  const scroller = useRef<HTMLDivElement>(null);
  const centred = useRef(false);
  useEffect(() => {
    const el = scroller.current;
    if (!el || centred.current) return;
    centred.current = true;
    el.scrollLeft = (el.scrollWidth - el.clientWidth) / 2;
  }, [org.data]);

  if (org.data === null) return <CompanyNotFound />;
  const roots = org.data ?? [];
  const count = countNodes(roots);

  return (
    <>
      <PageHeader
        title="Org chart"
        subtitle={
          org.data === undefined
            ? "Who reports to whom."
            : `Who reports to whom: ${count} ${count === 1 ? "agent" : "agents"}, ${roots.length} at the top. An agent escalates to its manager.`
        }
        actions={<LiveDot status={live} />}
      />
      <ErrorNote error={org.error} />
      {org.data === undefined ? (
        org.error ? null : <Loading what="Loading the org chart" />
      ) : roots.length === 0 ? (
        <Empty title="No agents yet">
          <Link to={`/companies/${id}/agents`}>Hire the first agent</Link>; the chart grows as agents report to one another.
        </Empty>
      ) : (
        <Card>
          <div className="org-scroll" ref={scroller}>
            <ul className="org-tree org-roots" aria-label="Org chart">
              {roots.map((node) => (
                <Branch key={node.id} node={node} companyId={id} />
              ))}
            </ul>
          </div>
        </Card>
      )}
    </>
  );
}

/** One agent's card and, under it, the agents who report to it. */
function Branch({ node, companyId }: { node: OrgNode; companyId: string }) {
  const pending = node.status === "pending_approval";
  return (
    <li>
      <Link to={`/companies/${companyId}/agents`} className={pending ? "org-card dim" : "org-card"} title={`${node.name} on the Agents page`}>
        <span className="org-role">{node.role}</span>
        <strong className="org-name">{node.name}</strong>
        {node.title ? <span className="org-title">{node.title}</span> : null}
        <Badge tone={agentTone(node.status)}>{words(node.status)}</Badge>
      </Link>
      {node.reports.length ? (
        <ul aria-label={`Reports of ${node.name}`}>
          {node.reports.map((r) => (
            <Branch key={r.id} node={r} companyId={companyId} />
          ))}
        </ul>
      ) : null}
    </li>
  );
}

function countNodes(nodes: OrgNode[]): number {
  return nodes.reduce((n, node) => n + 1 + countNodes(node.reports), 0);
}

function withStatus(nodes: OrgNode[], agentId: string, status: AgentStatus): OrgNode[] {
  return nodes.map((n) => (n.id === agentId ? { ...n, status } : { ...n, reports: withStatus(n.reports, agentId, status) }));
}
