// "/companies/:companyId/goals": the company's goals as a tree (a goal under its parent), the
// form that sets a new one, and per goal its status and a delete that asks twice.
import { useState, type FormEvent } from "react";
import { del, get, patch, post } from "../../api";
import { Badge, Button, Card, Empty, ErrorNote, Field, Loading, Note, Options, PageHeader } from "../../components/ui";
import { LiveDot } from "../../components/live-dot";
import { useAction, useData } from "../../hooks";
import { activityOf, useLiveReload } from "../../live";
import { CompanyNotFound } from "./not-found";
import { orNotFound, words, type Agent } from "./types";
import { goalTone, GOAL_LEVELS, GOAL_STATUSES, type PlanGoal, type Project } from "./planning-types";
import "./company.css";
import "./planning.css";

interface Context {
  goals: PlanGoal[];
  agents: Agent[];
  projects: Project[];
  childrenOf: Map<string | null, PlanGoal[]>;
  onChanged: (g: PlanGoal) => void;
  onDeleted: (g: PlanGoal) => void;
}

export function Goals({ params }: { params: Record<string, string> }) {
  const id = params.companyId;
  const goals = useData(() => orNotFound(get<PlanGoal[]>(`/companies/${id}/goals`)), [id]);
  const agents = useData(() => orNotFound(get<Agent[]>(`/companies/${id}/agents`)), [id]);
  const projects = useData(() => get<Project[]>(`/companies/${id}/projects`).catch(() => [] as Project[]), [id]);
  const [creating, setCreating] = useState(false);
  const [said, setSaid] = useState<string | null>(null);

  const live = useLiveReload(
    goals.data === null ? undefined : id,
    (e) => ["goal", "agent", "project"].includes(activityOf(e)?.entityType ?? ""),
    () => {
      void goals.reload();
      void agents.reload();
      void projects.reload();
    },
  );

  if (goals.data === null || agents.data === null) return <CompanyNotFound />;
  const list = goals.data ?? [];
  const known = new Set(list.map((g) => g.id));
  // A goal whose parent is gone (or in no list) is shown at the top rather than lost.
  const childrenOf = new Map<string | null, PlanGoal[]>();
  for (const g of list) {
    const parent = g.parentId && known.has(g.parentId) ? g.parentId : null;
    childrenOf.set(parent, [...(childrenOf.get(parent) ?? []), g]);
  }
  const ctx: Context = {
    goals: list,
    agents: agents.data ?? [],
    projects: projects.data ?? [],
    childrenOf,
    onChanged: (g) => goals.setData((prev) => prev?.map((x) => (x.id === g.id ? g : x))),
    onDeleted: (g) => {
      goals.setData((prev) => prev?.filter((x) => x.id !== g.id));
      setSaid(`Deleted “${g.title}”.`);
    },
  };

  return (
    <>
      <PageHeader
        title="Goals"
        subtitle="What the company works towards, from the company's mission down to a task."
        actions={
          <>
            <LiveDot status={live} />
            <Button variant={creating ? "secondary" : "primary"} onClick={() => setCreating(!creating)} aria-expanded={creating}>
              {creating ? "Close form" : "New goal"}
            </Button>
          </>
        }
      />
      {creating ? (
        <NewGoal
          companyId={id}
          goals={list}
          agents={agents.data ?? []}
          onCreated={(g) => {
            setCreating(false);
            setSaid(`Set “${g.title}”.`);
            void goals.reload();
          }}
        />
      ) : null}
      {said ? <Note kind="success">{said}</Note> : null}
      <ErrorNote error={goals.error ?? agents.error} />
      {goals.data === undefined ? (
        goals.error ? null : <Loading what="Loading goals" />
      ) : list.length === 0 ? (
        <Empty title="No goals yet">Set the company's goal with “New goal”, then break it down for teams and agents.</Empty>
      ) : (
        <Card>
          <GoalList parent={null} ctx={ctx} label="Goals" />
        </Card>
      )}
    </>
  );
}

function GoalList({ parent, ctx, label }: { parent: string | null; ctx: Context; label: string }) {
  const children = ctx.childrenOf.get(parent) ?? [];
  if (children.length === 0) return null;
  return (
    <ul className={parent ? "goal-tree goal-children" : "goal-tree"} aria-label={label}>
      {children.map((g) => (
        <li key={g.id} data-goal-id={g.id}>
          <GoalItem goal={g} ctx={ctx} />
          <GoalList parent={g.id} ctx={ctx} label={`Under ${g.title}`} />
        </li>
      ))}
    </ul>
  );
}

function GoalItem({ goal: g, ctx }: { goal: PlanGoal; ctx: Context }) {
  const [confirming, setConfirming] = useState(false);
  const action = useAction();
  const owner = ctx.agents.find((a) => a.id === g.ownerAgentId);
  const projects = ctx.projects.filter((p) => p.goalId === g.id);
  const subgoals = ctx.childrenOf.get(g.id)?.length ?? 0;

  const setStatus = async (status: string) => {
    const changed = await action.run(() => patch<PlanGoal>(`/goals/${g.id}`, { status }));
    if (changed) ctx.onChanged(changed);
  };
  const remove = async () => {
    const done = await action.run(() => del<PlanGoal>(`/goals/${g.id}`));
    setConfirming(false);
    if (done !== undefined) ctx.onDeleted(g);
  };

  return (
    <div className={`goal-item goal-${g.status}`} role="group" aria-label={g.title}>
      <div className="goal-main">
        <div className="row-line">
          <strong className="goal-item-title">{g.title}</strong>
          <Badge tone="neutral">{g.level}</Badge>
          <span data-testid="goal-status">
            <Badge tone={goalTone(g.status)}>{words(g.status)}</Badge>
          </span>
        </div>
        {g.description ? <div className="muted cell-sub">{g.description}</div> : null}
        <div className="muted cell-sub">
          {owner ? `Owner: ${owner.name}` : "No owner"}
          {projects.length ? ` · ${projects.length === 1 ? "1 project" : `${projects.length} projects`}: ${projects.map((p) => p.name).join(", ")}` : ""}
        </div>
      </div>
      <div className="row-actions">
        <select
          aria-label={`Status of ${g.title}`}
          className="row-select"
          value={g.status}
          disabled={action.pending}
          onChange={(e) => void setStatus(e.target.value)}
        >
          <Options values={GOAL_STATUSES} label={words} />
        </select>
        {confirming ? (
          <>
            <Button variant="danger" pending={action.pending} onClick={remove} aria-label={`Delete ${g.title} now`}>
              Delete now
            </Button>
            <Button variant="ghost" onClick={() => setConfirming(false)}>
              Keep
            </Button>
          </>
        ) : (
          <Button
            variant="danger"
            onClick={() => {
              action.setError(null);
              setConfirming(true);
            }}
            aria-label={`Delete ${g.title}`}
          >
            Delete
          </Button>
        )}
      </div>
      {confirming && (projects.length || subgoals) ? (
        <div className="goal-note">
          <Note kind="warning">
            {[subgoals ? `${subgoals === 1 ? "1 goal sits" : `${subgoals} goals sit`} under it` : "", projects.length ? `${projects.map((p) => p.name).join(", ")} ${projects.length === 1 ? "works towards it and will be left" : "work towards it and will be left"} without a goal` : ""]
              .filter(Boolean)
              .join("; ")}
            .
          </Note>
        </div>
      ) : null}
      {action.error ? (
        <div className="goal-note">
          <ErrorNote error={action.error} />
        </div>
      ) : null}
    </div>
  );
}

function NewGoal({ companyId, goals, agents, onCreated }: { companyId: string; goals: PlanGoal[]; agents: Agent[]; onCreated: (g: PlanGoal) => void }) {
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [level, setLevel] = useState<string>(goals.length ? "team" : "company");
  const [parent, setParent] = useState("");
  const [owner, setOwner] = useState("");
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const g = await action.run(() =>
      post<PlanGoal>(`/companies/${companyId}/goals`, {
        title: title.trim(),
        description: description.trim() || undefined,
        level,
        parentId: parent || undefined,
        ownerAgentId: owner || undefined,
      }),
    );
    if (g) onCreated(g);
  };

  return (
    <Card title="New goal">
      <form onSubmit={submit} aria-label="New goal">
        <Field label="Title" htmlFor="goal-title">
          <input id="goal-title" value={title} onChange={(e) => setTitle(e.target.value)} required maxLength={500} autoComplete="off" autoFocus />
        </Field>
        <Field label="Description" htmlFor="goal-description">
          <textarea id="goal-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <div className="form-row top">
          <Field label="Level" htmlFor="goal-level">
            <select id="goal-level" value={level} onChange={(e) => setLevel(e.target.value)}>
              <Options values={GOAL_LEVELS} />
            </select>
          </Field>
          <Field label="Parent goal" htmlFor="goal-parent">
            <select id="goal-parent" value={parent} onChange={(e) => setParent(e.target.value)}>
              <option value="">None (top level)</option>
              {goals.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.title} ({g.level})
                </option>
              ))}
            </select>
          </Field>
          <Field label="Owner" htmlFor="goal-owner" hint={agents.length ? undefined : "Hire an agent to own goals."}>
            <select id="goal-owner" value={owner} onChange={(e) => setOwner(e.target.value)}>
              <option value="">No owner</option>
              {agents
                .filter((a) => a.status !== "terminated")
                .map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                  </option>
                ))}
            </select>
          </Field>
        </div>
        <ErrorNote error={action.error} />
        <div className="form-actions">
          <Button type="submit" pending={action.pending}>
            Create goal
          </Button>
        </div>
      </form>
    </Card>
  );
}
