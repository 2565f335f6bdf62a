// "/companies/:companyId/projects": the company's projects (status, goal, lead, target date),
// the form that starts one, and a panel per project to change it and its run environment.
// Environment values under credential-shaped names never come back from the server: the editor
// shows them as hidden and never sends the placeholder.
import { useState, type FormEvent } from "react";
import { get, patch, post, query } from "../../api";
import { Badge, Button, Card, Empty, ErrorNote, Field, Loading, Note, Options, PageHeader, RowMessage } from "../../components/ui";
import { LiveDot } from "../../components/live-dot";
import { useAction, useData } from "../../hooks";
import { activityOf, useLiveReload } from "../../live";
import { CompanyNotFound } from "./not-found";
import { orNotFound, words, type Agent, type Issue } from "./types";
import type { ListedSecret } from "./people-types";
import { bindingOf, envRows, projectTone, PROJECT_STATUSES, type EnvBinding, type EnvRow, type PlanGoal, type Project } from "./planning-types";
import "./company.css";
import "./people.css";
import "./planning.css";

/** Issues per project: the list answers at most this many at once. */
const ISSUE_MAX = 1000;

interface Context {
  companyId: string;
  goals: PlanGoal[];
  agents: Agent[];
  secrets: ListedSecret[];
}

export function Projects({ params }: { params: Record<string, string> }) {
  const id = params.companyId;
  const projects = useData(() => orNotFound(get<Project[]>(`/companies/${id}/projects`)), [id]);
  const goals = useData(() => orNotFound(get<PlanGoal[]>(`/companies/${id}/goals`)), [id]);
  const agents = useData(() => orNotFound(get<Agent[]>(`/companies/${id}/agents`)), [id]);
  // Only to name a referenced secret; a viewer who may not list secrets still sees the rest.
  const secrets = useData(() => get<ListedSecret[]>(`/companies/${id}/secrets`).catch(() => [] as ListedSecret[]), [id]);
  const ids = (projects.data ?? []).map((p) => p.id).join(",");
  // The issues page has no project filter: count each project's issues here instead.
  const counts = useData(async () => {
    const entries = await Promise.all(
      ids
        .split(",")
        .filter(Boolean)
        .map(async (p) => [p, (await get<Issue[]>(`/companies/${id}/issues${query({ projectId: p, limit: ISSUE_MAX })}`)).length] as const),
    );
    return Object.fromEntries(entries) as Record<string, number>;
  }, [id, ids]);
  const [creating, setCreating] = useState(false);
  const [open, setOpen] = useState<string | null>(null);
  const [said, setSaid] = useState<string | null>(null);

  const live = useLiveReload(
    projects.data === null ? undefined : id,
    (e) => ["project", "goal", "agent", "issue", "secret"].includes(activityOf(e)?.entityType ?? ""),
    () => {
      void projects.reload();
      void goals.reload();
      void agents.reload();
      void secrets.reload();
      void counts.reload();
    },
  );

  if (projects.data === null || goals.data === null || agents.data === null) return <CompanyNotFound />;
  const list = projects.data ?? [];
  const ctx: Context = { companyId: id, goals: goals.data ?? [], agents: agents.data ?? [], secrets: secrets.data ?? [] };
  const replace = (p: Project) => projects.setData((prev) => prev?.map((x) => (x.id === p.id ? p : x)));

  return (
    <>
      <PageHeader
        title="Projects"
        subtitle="Bodies of work towards a goal, each with a lead agent and the environment its runs get."
        actions={
          <>
            <LiveDot status={live} />
            <Button variant={creating ? "secondary" : "primary"} onClick={() => setCreating(!creating)} aria-expanded={creating}>
              {creating ? "Close form" : "New project"}
            </Button>
          </>
        }
      />
      {creating ? (
        <NewProject
          ctx={ctx}
          onCreated={(p) => {
            setCreating(false);
            setSaid(`Created ${p.name}.`);
            void projects.reload();
          }}
        />
      ) : null}
      {said ? <Note kind="success">{said}</Note> : null}
      <ErrorNote error={projects.error ?? goals.error ?? agents.error} />
      {projects.data === undefined ? (
        projects.error ? null : <Loading what="Loading projects" />
      ) : list.length === 0 ? (
        <Empty title="No projects yet">Start one with “New project”, tie it to a goal and give it a lead agent.</Empty>
      ) : (
        <Card>
          <table className="table" aria-label="Projects">
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th>Goal</th>
                <th>Lead</th>
                <th>Target</th>
                <th>Env</th>
                <th>Issues</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((p) => (
                <ProjectRow
                  key={p.id}
                  project={p}
                  ctx={ctx}
                  issues={counts.data?.[p.id]}
                  open={open === p.id}
                  onToggle={() => {
                    setSaid(null);
                    setOpen(open === p.id ? null : p.id);
                  }}
                  onSaved={(saved) => {
                    replace(saved);
                    setOpen(null);
                    setSaid(`Saved ${saved.name}.`);
                  }}
                />
              ))}
            </tbody>
          </table>
        </Card>
      )}
    </>
  );
}

function ProjectRow({
  project: p,
  ctx,
  issues,
  open,
  onToggle,
  onSaved,
}: {
  project: Project;
  ctx: Context;
  issues: number | undefined;
  open: boolean;
  onToggle: () => void;
  onSaved: (p: Project) => void;
}) {
  const goal = ctx.goals.find((g) => g.id === p.goalId);
  const lead = ctx.agents.find((a) => a.id === p.leadAgentId);
  const names = Object.keys(p.env ?? {});
  return (
    <>
      <tr data-project-id={p.id}>
        <td>
          <span className="project-name">
            {p.color ? <span className="swatch" style={{ background: p.color }} aria-hidden /> : null}
            <strong>{p.name}</strong>
          </span>
          {p.description ? <div className="muted cell-sub">{p.description}</div> : null}
        </td>
        <td>
          <Badge tone={projectTone(p.status)}>{words(p.status)}</Badge>
        </td>
        <td>{goal ? goal.title : p.goalId ? <span className="muted">a removed goal</span> : <span className="muted">none</span>}</td>
        <td>{lead ? lead.name : p.leadAgentId ? <span className="muted">an agent</span> : <span className="muted">none</span>}</td>
        <td className="nowrap">{p.targetDate ?? <span className="muted">none</span>}</td>
        <td className="nowrap" title={names.join(", ")}>
          {names.length === 1 ? "1 variable" : `${names.length} variables`}
        </td>
        <td className="nowrap" aria-label={`Issues of ${p.name}`}>
          {issues === undefined ? <span className="muted">…</span> : issues === 1 ? "1 issue" : `${issues} issues`}
        </td>
        <td>
          <div className="row-actions">
            <Button variant="secondary" onClick={onToggle} aria-expanded={open} aria-label={`Edit ${p.name}`}>
              {open ? "Close" : "Edit"}
            </Button>
          </div>
        </td>
      </tr>
      {open ? (
        <RowMessage colSpan={8}>
          <EditProject project={p} ctx={ctx} onSaved={onSaved} onCancel={onToggle} />
        </RowMessage>
      ) : null}
    </>
  );
}

function GoalOptions({ goals }: { goals: PlanGoal[] }) {
  return (
    <>
      {goals.map((g) => (
        <option key={g.id} value={g.id}>
          {g.title} ({g.level})
        </option>
      ))}
    </>
  );
}

function AgentOptions({ agents }: { agents: Agent[] }) {
  return (
    <>
      {agents
        .filter((a) => a.status !== "terminated")
        .map((a) => (
          <option key={a.id} value={a.id}>
            {a.name}
          </option>
        ))}
    </>
  );
}

function NewProject({ ctx, onCreated }: { ctx: Context; onCreated: (p: Project) => void }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [status, setStatus] = useState("backlog");
  const [goalId, setGoalId] = useState("");
  const [lead, setLead] = useState("");
  const [targetDate, setTargetDate] = useState("");
  const [color, setColor] = useState("");
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const p = await action.run(() =>
      post<Project>(`/companies/${ctx.companyId}/projects`, {
        name: name.trim(),
        description: description.trim() || undefined,
        status,
        goalId: goalId || undefined,
        leadAgentId: lead || undefined,
        targetDate: targetDate || undefined,
        color: color.trim() || undefined,
      }),
    );
    if (p) onCreated(p);
  };

  return (
    <Card title="New project">
      <form onSubmit={submit} aria-label="New project">
        <div className="form-row top">
          <Field label="Name" htmlFor="project-name">
            <input id="project-name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} autoComplete="off" autoFocus />
          </Field>
          <Field label="Status" htmlFor="project-status">
            <select id="project-status" value={status} onChange={(e) => setStatus(e.target.value)}>
              <Options values={PROJECT_STATUSES} label={words} />
            </select>
          </Field>
        </div>
        <Field label="Description" htmlFor="project-description">
          <textarea id="project-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <div className="form-row top">
          <Field label="Goal" htmlFor="project-goal" hint={ctx.goals.length ? undefined : "Set goals on the Goals page."}>
            <select id="project-goal" value={goalId} onChange={(e) => setGoalId(e.target.value)}>
              <option value="">No goal</option>
              <GoalOptions goals={ctx.goals} />
            </select>
          </Field>
          <Field label="Lead agent" htmlFor="project-lead" hint={ctx.agents.length ? undefined : "Hire an agent to lead it."}>
            <select id="project-lead" value={lead} onChange={(e) => setLead(e.target.value)}>
              <option value="">No lead</option>
              <AgentOptions agents={ctx.agents} />
            </select>
          </Field>
          <Field label="Target date" htmlFor="project-target">
            <input id="project-target" type="date" value={targetDate} onChange={(e) => setTargetDate(e.target.value)} />
          </Field>
          <Field label="Color" htmlFor="project-color" hint="#RRGGBB, optional">
            <input id="project-color" value={color} onChange={(e) => setColor(e.target.value)} placeholder="#4f46e5" autoComplete="off" />
          </Field>
        </div>
        <ErrorNote error={action.error} />
        <div className="form-actions">
          <Button type="submit" pending={action.pending}>
            Create project
          </Button>
        </div>
      </form>
    </Card>
  );
}

/** A row of the env editor with where it came from: `edited` once the person touched it. */
interface EditRow extends EnvRow {
  uid: number;
  edited: boolean;
}

let nextUid = 1;

function EditProject({ project: p, ctx, onSaved, onCancel }: { project: Project; ctx: Context; onSaved: (p: Project) => void; onCancel: () => void }) {
  const [name, setName] = useState(p.name);
  const [description, setDescription] = useState(p.description ?? "");
  const [status, setStatus] = useState<string>(p.status);
  const [goalId, setGoalId] = useState(p.goalId ?? "");
  const [lead, setLead] = useState(p.leadAgentId ?? "");
  const [targetDate, setTargetDate] = useState(p.targetDate ?? "");
  const [color, setColor] = useState(p.color ?? "");
  const [rows, setRows] = useState<EditRow[]>(() => envRows(p.env).map((r) => ({ ...r, uid: nextUid++, edited: false })));
  // Whether the env was touched at all (a row added, changed or removed): only then is it sent.
  const [envTouched, setEnvTouched] = useState(false);
  const [blocked, setBlocked] = useState<string | null>(null);
  const action = useAction();
  const pre = `edit-${p.id}`;

  const change = (uid: number, patchRow: Partial<EnvRow>) => {
    setEnvTouched(true);
    setBlocked(null);
    setRows((prev) =>
      prev.map((r) => {
        if (r.uid !== uid) return r;
        const next = { ...r, ...patchRow, edited: true };
        // A hidden value stays hidden until a new value is typed (or it becomes a reference).
        if (r.hidden && (patchRow.value !== undefined || patchRow.kind === "secret")) next.hidden = false;
        return next;
      }),
    );
  };
  const add = () => {
    setEnvTouched(true);
    setRows((prev) => [...prev, { uid: nextUid++, key: "", kind: "plain", value: "", secretId: "", version: "latest", hidden: false, edited: true }]);
  };
  const remove = (uid: number) => {
    setEnvTouched(true);
    setBlocked(null);
    setRows((prev) => prev.filter((r) => r.uid !== uid));
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBlocked(null);
    const body: Record<string, unknown> = {};
    if (name.trim() !== p.name) body.name = name.trim();
    if (description.trim() !== (p.description ?? "")) body.description = description.trim() || null;
    if (status !== p.status) body.status = status;
    if (goalId !== (p.goalId ?? "")) body.goalId = goalId || null;
    if (lead !== (p.leadAgentId ?? "")) body.leadAgentId = lead || null;
    if (targetDate !== (p.targetDate ?? "")) body.targetDate = targetDate || null;
    if (color.trim() !== (p.color ?? "")) body.color = color.trim() || null;
    if (envTouched) {
      // The server replaces the whole env and refuses the placeholder: a hidden value that was
      // not typed again cannot be kept through this form.
      const hidden = rows.filter((r) => r.hidden).map((r) => r.key);
      if (hidden.length) {
        setBlocked(
          `${hidden.join(", ")} ${hidden.length === 1 ? "has a hidden value" : "have hidden values"} the server will not show. ` +
            "Type the value again, bind it to a secret, or remove the variable before saving the environment.",
        );
        return;
      }
      const env: Record<string, EnvBinding> = {};
      for (const r of rows) env[r.key.trim()] = bindingOf(r);
      body.env = env;
    }
    if (Object.keys(body).length === 0) {
      onCancel();
      return;
    }
    const saved = await action.run(() => patch<Project>(`/projects/${p.id}`, body));
    if (saved) onSaved(saved);
  };

  return (
    <form onSubmit={submit} aria-label={`Edit ${p.name}`} className="project-edit">
      <div className="form-row top">
        <Field label="Name" htmlFor={`${pre}-name`}>
          <input id={`${pre}-name`} value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} autoComplete="off" />
        </Field>
        <Field label="Status" htmlFor={`${pre}-status`}>
          <select id={`${pre}-status`} value={status} onChange={(e) => setStatus(e.target.value)}>
            <Options values={PROJECT_STATUSES} label={words} />
          </select>
        </Field>
        <Field label="Goal" htmlFor={`${pre}-goal`}>
          <select id={`${pre}-goal`} value={goalId} onChange={(e) => setGoalId(e.target.value)}>
            <option value="">No goal</option>
            <GoalOptions goals={ctx.goals} />
          </select>
        </Field>
        <Field label="Lead agent" htmlFor={`${pre}-lead`}>
          <select id={`${pre}-lead`} value={lead} onChange={(e) => setLead(e.target.value)}>
            <option value="">No lead</option>
            <AgentOptions agents={ctx.agents} />
          </select>
        </Field>
        <Field label="Target date" htmlFor={`${pre}-target`}>
          <input id={`${pre}-target`} type="date" value={targetDate} onChange={(e) => setTargetDate(e.target.value)} />
        </Field>
        <Field label="Color" htmlFor={`${pre}-color`}>
          <input id={`${pre}-color`} value={color} onChange={(e) => setColor(e.target.value)} placeholder="#4f46e5" autoComplete="off" />
        </Field>
      </div>
      <Field label="Description" htmlFor={`${pre}-description`}>
        <textarea id={`${pre}-description`} value={description} onChange={(e) => setDescription(e.target.value)} />
      </Field>

      <div className="env-head">
        <strong>Environment</strong>
        <span className="muted">
          Given to every run in this project. A value may be <code>$secret:&lt;name&gt;</code>; values under names like{" "}
          <code>*_TOKEN</code> or <code>*_API_KEY</code> are never shown again.
        </span>
      </div>
      {rows.length === 0 ? (
        <p className="muted env-empty">No variables.</p>
      ) : (
        <table className="table env-table" aria-label={`Environment of ${p.name}`}>
          <thead>
            <tr>
              <th>Name</th>
              <th>Kind</th>
              <th>Value</th>
              <th>
                <span className="visually-hidden">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={r.uid} data-env-key={r.key}>
                <td>
                  <input aria-label={`Variable ${i + 1} name`} value={r.key} onChange={(e) => change(r.uid, { key: e.target.value })} autoComplete="off" spellCheck={false} />
                </td>
                <td>
                  <select aria-label={`Variable ${i + 1} kind`} className="row-select" value={r.kind} onChange={(e) => change(r.uid, { kind: e.target.value as EnvRow["kind"] })}>
                    <option value="plain">Value</option>
                    <option value="secret">Secret</option>
                  </select>
                </td>
                <td>
                  {r.kind === "secret" ? (
                    <select aria-label={`Variable ${i + 1} secret`} className="row-select" value={r.secretId} onChange={(e) => change(r.uid, { secretId: e.target.value })}>
                      <option value="">Choose a secret</option>
                      {r.secretId && !ctx.secrets.some((s) => s.id === r.secretId) ? <option value={r.secretId}>a secret ({r.secretId.slice(0, 8)})</option> : null}
                      {ctx.secrets.map((s) => (
                        <option key={s.id} value={s.id}>
                          {s.name}
                          {s.status === "active" ? "" : ` (${s.status})`}
                        </option>
                      ))}
                    </select>
                  ) : (
                    <span className="env-value">
                      <input
                        aria-label={`Variable ${i + 1} value`}
                        value={r.value}
                        placeholder={r.hidden ? "hidden: type a new value to replace it" : ""}
                        onChange={(e) => change(r.uid, { value: e.target.value })}
                        autoComplete="off"
                        spellCheck={false}
                      />
                      {r.hidden ? <Badge tone="warn">hidden</Badge> : null}
                    </span>
                  )}
                </td>
                <td>
                  <Button type="button" variant="ghost" onClick={() => remove(r.uid)} aria-label={`Remove variable ${i + 1}`}>
                    Remove
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div>
        <Button type="button" variant="secondary" onClick={add}>
          Add variable
        </Button>
      </div>
      {blocked ? <Note kind="warning">{blocked}</Note> : null}
      <ErrorNote error={action.error} />
      <div className="form-actions">
        <Button type="button" variant="ghost" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" pending={action.pending}>
          Save project
        </Button>
      </div>
    </form>
  );
}
