// The "Configuration" card of an agent's page: who it is (name, title, role, manager), how a
// heartbeat runs it (the adapter and its settings, the names each adapter reads in
// server/src/adapters/*), when it wakes (runtimeConfig.heartbeat) and its environment.
// PATCH /agents/:id replaces adapterConfig and runtimeConfig whole, so the form sends them only
// when something in them changed, built over what the server has: keys the form does not show
// are kept. A plain credential reads back as ***REDACTED*** and writing that back is refused, so
// such a row is kept by not sending the configuration at all, or replaced by a typed value.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { patch } from "../../api";
import { Badge, Button, Card, ErrorNote, Field, Note, Options } from "../../components/ui";
import { useAction } from "../../hooks";
import { ADAPTER_TYPES, ROLES, words, type Agent } from "./types";
import type { ListedSecret } from "./people-types";
import { ADAPTER_FIELDS, AdapterField, parsed, shown } from "./agent-adapter-fields";

/** GET /agents/:id: the agent with its configuration and chain of command. */
export interface AgentDetailData extends Agent {
  icon: string | null;
  capabilities: string | null;
  adapterConfig: Record<string, unknown>;
  runtimeConfig: Record<string, unknown>;
  budgetMonthlyTokens: number;
  spentMonthlyTokens: number;
  chainOfCommand: { id: string; name: string; role: string; title: string | null }[];
}

/** What a read shows instead of a plain credential (shared/src/env.rs REDACTED). */
export const REDACTED = "***REDACTED***";

type BindingKind = "plain" | "secret";
interface EnvRow {
  /** React's key: rows have no id of their own. */
  uid: number;
  name: string;
  kind: BindingKind;
  value: string;
  secretId: string;
  /** The stored binding, for rows the form cannot show (and the version of a reference). */
  original: unknown;
  /** A plain credential the server does not show again: kept only if the config is not sent. */
  hidden: boolean;
}

let uids = 0;

function rowsOf(env: unknown): EnvRow[] {
  if (!env || typeof env !== "object") return [];
  return Object.entries(env as Record<string, unknown>).map(([name, b]) => {
    const row: EnvRow = { uid: ++uids, name, kind: "plain", value: "", secretId: "", original: b, hidden: false };
    if (typeof b === "string") row.value = b;
    else if (b && typeof b === "object") {
      const o = b as { type?: string; value?: unknown; secretId?: unknown };
      if (o.type === "secret_ref") {
        row.kind = "secret";
        row.secretId = String(o.secretId ?? "");
      } else row.value = typeof o.value === "string" ? o.value : "";
    }
    if (row.kind === "plain" && row.value === REDACTED) {
      row.hidden = true;
      row.value = "";
    }
    return row;
  });
}

function bindingOf(row: EnvRow): unknown {
  if (row.kind === "secret") {
    const o = row.original as { type?: string; secretId?: string; version?: unknown } | undefined;
    const version = o?.type === "secret_ref" && o.secretId === row.secretId && o.version !== undefined ? o.version : "latest";
    return { type: "secret_ref", secretId: row.secretId, version };
  }
  return { type: "plain", value: row.value };
}

interface Heartbeat {
  enabled: boolean;
  intervalSec: string;
  wakeOnDemand: boolean;
  maxConcurrentRuns: string;
}

function heartbeatOf(runtime: Record<string, unknown>): Heartbeat {
  const h = (runtime?.heartbeat ?? {}) as Record<string, unknown>;
  return {
    enabled: h.enabled === true,
    intervalSec: typeof h.intervalSec === "number" ? String(h.intervalSec) : "",
    wakeOnDemand: h.wakeOnDemand !== false,
    maxConcurrentRuns: typeof h.maxConcurrentRuns === "number" ? String(h.maxConcurrentRuns) : "",
  };
}

interface Form {
  name: string;
  title: string;
  role: string;
  reportsTo: string;
  adapterType: string;
  /** Adapter settings by key, as text. */
  fields: Record<string, string>;
  /** Adapter keys the user edited: only these are written over the stored configuration. */
  touched: string[];
  env: EnvRow[];
  envTouched: boolean;
  heartbeat: Heartbeat;
  heartbeatTouched: boolean;
}

function formOf(a: AgentDetailData): Form {
  const fields: Record<string, string> = {};
  for (const specs of Object.values(ADAPTER_FIELDS)) {
    for (const s of specs) if (!(s.key in fields)) fields[s.key] = shown(s, a.adapterConfig?.[s.key]);
  }
  return {
    name: a.name,
    title: a.title ?? "",
    role: a.role,
    reportsTo: a.reportsTo ?? "",
    adapterType: a.adapterType,
    fields,
    touched: [],
    env: rowsOf(a.adapterConfig?.env),
    envTouched: false,
    heartbeat: heartbeatOf(a.runtimeConfig ?? {}),
    heartbeatTouched: false,
  };
}

function isDirty(f: Form, a: AgentDetailData): boolean {
  return (
    f.touched.length > 0 ||
    f.envTouched ||
    f.heartbeatTouched ||
    f.name !== a.name ||
    f.title !== (a.title ?? "") ||
    f.role !== a.role ||
    f.reportsTo !== (a.reportsTo ?? "") ||
    f.adapterType !== a.adapterType
  );
}

/** The PATCH body for what changed, or a sentence saying why it cannot be sent. */
function changesOf(f: Form, a: AgentDetailData): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const name = f.name.trim();
  if (!name) throw new Error("The agent needs a name.");
  if (name !== a.name) body.name = name;
  if (f.title.trim() !== (a.title ?? "")) body.title = f.title.trim() || null;
  if (f.role !== a.role) body.role = f.role;
  if (f.reportsTo !== (a.reportsTo ?? "")) body.reportsTo = f.reportsTo || null;
  if (f.adapterType !== a.adapterType) body.adapterType = f.adapterType;

  if (f.touched.length || f.envTouched) {
    const config: Record<string, unknown> = { ...(a.adapterConfig ?? {}) };
    const specs = ADAPTER_FIELDS[f.adapterType] ?? [];
    for (const key of f.touched) {
      const spec = specs.find((s) => s.key === key);
      if (!spec) continue;
      const value = parsed(spec, f.fields[key] ?? "");
      if (value === undefined) delete config[key];
      else config[key] = value;
    }
    if (f.envTouched) {
      const env: Record<string, unknown> = {};
      for (const row of f.env) {
        const n = row.name.trim();
        if (!n && !row.value && !row.secretId) continue;
        if (!n) throw new Error("Each environment variable needs a name.");
        if (n in env) throw new Error(`${n} is in the environment twice.`);
        if (row.kind === "secret" && !row.secretId) throw new Error(`${n}: pick the secret it reads.`);
        if (row.hidden && row.kind === "plain" && !row.value) env[n] = row.original;
        else env[n] = bindingOf(row);
      }
      if (Object.keys(env).length || config.env !== undefined) config.env = env;
    }
    // The server shows a plain credential as the placeholder and refuses it back: a
    // configuration that still holds one cannot be sent (the server has no "keep this value").
    const env = (config.env ?? {}) as Record<string, unknown>;
    const kept = Object.entries(env)
      .filter(([, b]) => b === REDACTED || (b && typeof b === "object" && (b as { value?: unknown }).value === REDACTED))
      .map(([k]) => k);
    if (kept.length)
      throw new Error(
        `${kept.join(", ")} ${kept.length === 1 ? "holds a value" : "hold values"} the server does not show again, and saving the adapter ` +
          `settings replaces the whole configuration: type ${kept.length === 1 ? "its value" : "their values"} again, bind ` +
          `${kept.length === 1 ? "it" : "them"} to a secret, or remove ${kept.length === 1 ? "it" : "them"} first.`,
      );
    body.adapterConfig = config;
  }

  if (f.heartbeatTouched) {
    const h = f.heartbeat;
    const interval = h.intervalSec.trim() ? Number(h.intervalSec) : 0;
    if (!Number.isInteger(interval) || interval < 0) throw new Error("Heartbeat interval: whole seconds, 0 or more.");
    const beat: Record<string, unknown> = {
      ...((a.runtimeConfig?.heartbeat ?? {}) as Record<string, unknown>),
      enabled: h.enabled,
      intervalSec: interval,
      wakeOnDemand: h.wakeOnDemand,
    };
    if (h.maxConcurrentRuns.trim()) {
      const n = Number(h.maxConcurrentRuns);
      if (!Number.isInteger(n) || n < 1) throw new Error("Concurrent runs: a whole number, 1 or more.");
      beat.maxConcurrentRuns = n;
    } else delete beat.maxConcurrentRuns;
    body.runtimeConfig = { ...(a.runtimeConfig ?? {}), heartbeat: beat };
  }
  return body;
}

export function ConfigCard({
  agent,
  agents,
  secrets,
  secretsError,
  onSaved,
}: {
  agent: AgentDetailData;
  /** The company's agents, for "reports to". */
  agents: Agent[];
  secrets: ListedSecret[] | undefined;
  secretsError: string | null;
  onSaved: (agent: Agent) => void;
}) {
  const [form, setForm] = useState(() => formOf(agent));
  const [said, setSaid] = useState<string | null>(null);
  const action = useAction();
  const base = useRef(agent);
  const terminated = agent.status === "terminated";

  // The agent changed elsewhere (live events, a lifecycle button): follow it unless the form
  // holds edits of its own, which win until saved.
  useEffect(() => {
    if (base.current === agent) return;
    const dirty = isDirty(form, base.current);
    base.current = agent;
    if (!dirty) setForm(formOf(agent));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [agent]);

  const set = (change: Partial<Form>) => {
    setSaid(null);
    setForm((f) => ({ ...f, ...change }));
  };
  const setField = (key: string, value: string) => {
    setSaid(null);
    setForm((f) => ({ ...f, fields: { ...f.fields, [key]: value }, touched: f.touched.includes(key) ? f.touched : [...f.touched, key] }));
  };
  const setRow = (uid: number, change: Partial<EnvRow>) => {
    setSaid(null);
    setForm((f) => ({ ...f, envTouched: true, env: f.env.map((r) => (r.uid === uid ? { ...r, ...change } : r)) }));
  };
  const addRow = () =>
    setForm((f) => ({
      ...f,
      envTouched: true,
      env: [...f.env, { uid: ++uids, name: "", kind: "plain", value: "", secretId: "", original: undefined, hidden: false }],
    }));
  const removeRow = (uid: number) => setForm((f) => ({ ...f, envTouched: true, env: f.env.filter((r) => r.uid !== uid) }));
  const setBeat = (change: Partial<Heartbeat>) => {
    setSaid(null);
    setForm((f) => ({ ...f, heartbeat: { ...f.heartbeat, ...change }, heartbeatTouched: true }));
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSaid(null);
    let body: Record<string, unknown>;
    try {
      body = changesOf(form, agent);
    } catch (err) {
      action.setError(err instanceof Error ? err.message : String(err));
      return;
    }
    if (Object.keys(body).length === 0) {
      action.setError(null);
      setSaid("Nothing changed.");
      return;
    }
    const saved = await action.run(() => patch<Agent>(`/agents/${agent.id}`, body));
    if (saved) {
      const next = { ...agent, ...saved } as AgentDetailData;
      base.current = next;
      setForm(formOf(next));
      setSaid("Saved.");
      onSaved(saved);
    }
  };

  const specs = ADAPTER_FIELDS[form.adapterType] ?? [];
  const others = agents.filter((a) => a.id !== agent.id);
  const secretList = secrets ?? [];

  return (
    <Card title="Configuration">
      <form onSubmit={submit} aria-label="Configuration" className="agent-config">
        <fieldset disabled={terminated} className="plain-fieldset">
          <div className="form-row top">
            <Field label="Name" htmlFor="cfg-name">
              <input id="cfg-name" value={form.name} onChange={(e) => set({ name: e.target.value })} required maxLength={200} autoComplete="off" />
            </Field>
            <Field label="Title" htmlFor="cfg-title">
              <input id="cfg-title" value={form.title} onChange={(e) => set({ title: e.target.value })} maxLength={200} autoComplete="off" />
            </Field>
            <Field label="Role" htmlFor="cfg-role">
              <select id="cfg-role" value={form.role} onChange={(e) => set({ role: e.target.value })}>
                <Options values={ROLES} />
              </select>
            </Field>
            <Field label="Reports to" htmlFor="cfg-reports-to">
              <select id="cfg-reports-to" value={form.reportsTo} onChange={(e) => set({ reportsTo: e.target.value })}>
                <option value="">Nobody (top of the tree)</option>
                {others.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                  </option>
                ))}
                {form.reportsTo && !others.some((a) => a.id === form.reportsTo) ? <option value={form.reportsTo}>a former agent</option> : null}
              </select>
            </Field>
          </div>

          <h3 className="config-section">Adapter</h3>
          <div className="form-row top">
            <Field label="Adapter type" htmlFor="cfg-adapter" hint="Settings of another type are kept, not shown.">
              <select id="cfg-adapter" value={form.adapterType} onChange={(e) => set({ adapterType: e.target.value })}>
                <Options values={ADAPTER_TYPES} />
                {!(ADAPTER_TYPES as readonly string[]).includes(form.adapterType) ? <option value={form.adapterType}>{form.adapterType}</option> : null}
              </select>
            </Field>
          </div>
          <div className="config-grid">
            {specs.map((s) => (
              <AdapterField key={s.key} spec={s} value={form.fields[s.key] ?? ""} onChange={(v) => setField(s.key, v)} />
            ))}
          </div>

          <h3 className="config-section">Heartbeat</h3>
          <div className="heartbeat-grid">
            <label className="check">
              <input type="checkbox" checked={form.heartbeat.enabled} onChange={(e) => setBeat({ enabled: e.target.checked })} /> Wake on a timer
            </label>
            <Field label="Interval (seconds)" htmlFor="cfg-interval" hint="0: no timer.">
              <input
                id="cfg-interval"
                type="number"
                min={0}
                step={1}
                value={form.heartbeat.intervalSec}
                onChange={(e) => setBeat({ intervalSec: e.target.value })}
              />
            </Field>
            <label className="check">
              <input type="checkbox" checked={form.heartbeat.wakeOnDemand} onChange={(e) => setBeat({ wakeOnDemand: e.target.checked })} /> Wake on
              demand
            </label>
            <Field label="Concurrent runs" htmlFor="cfg-concurrent" hint="Empty: the default.">
              <input
                id="cfg-concurrent"
                type="number"
                min={1}
                step={1}
                value={form.heartbeat.maxConcurrentRuns}
                onChange={(e) => setBeat({ maxConcurrentRuns: e.target.value })}
              />
            </Field>
          </div>

          <h3 className="config-section">Environment</h3>
          <p className="hint env-hint">
            Plain values under credential-shaped names (…_API_KEY, …_TOKEN, …_SECRET, …_PASSWORD) are not shown again once saved; prefer a
            secret for them.
          </p>
          {secretsError ? <Note kind="warning">The company's secrets cannot be listed here: {secretsError}</Note> : null}
          {form.env.length === 0 ? <p className="muted">No variables.</p> : null}
          <div className="env-rows">
            {form.env.map((row, i) => (
              <div className="env-row" key={row.uid} data-env-name={row.name}>
                <input
                  aria-label={`Name of variable ${i + 1}`}
                  value={row.name}
                  placeholder="NAME"
                  onChange={(e) => setRow(row.uid, { name: e.target.value })}
                  autoComplete="off"
                  spellCheck={false}
                />
                <select aria-label={`Binding of variable ${i + 1}`} value={row.kind} onChange={(e) => setRow(row.uid, { kind: e.target.value as BindingKind })}>
                  <option value="plain">plain value</option>
                  <option value="secret">secret</option>
                </select>
                {row.kind === "plain" ? (
                  <input
                    aria-label={`Value of variable ${i + 1}`}
                    value={row.value}
                    type={row.hidden ? "password" : "text"}
                    placeholder={row.hidden ? "hidden: type a new value to replace it" : "value"}
                    onChange={(e) => setRow(row.uid, { value: e.target.value })}
                    autoComplete="off"
                    spellCheck={false}
                  />
                ) : (
                  <select aria-label={`Secret for variable ${i + 1}`} value={row.secretId} onChange={(e) => setRow(row.uid, { secretId: e.target.value })}>
                    <option value="">Pick a secret…</option>
                    {secretList.map((s) => (
                      <option key={s.id} value={s.id}>
                        {s.name}
                        {s.status !== "active" ? ` (${words(s.status)})` : ""}
                      </option>
                    ))}
                    {row.secretId && !secretList.some((s) => s.id === row.secretId) ? <option value={row.secretId}>an unlisted secret</option> : null}
                  </select>
                )}
                <span className="env-state">{row.hidden && row.kind === "plain" && !row.value ? <Badge tone="warn">stored, hidden</Badge> : null}</span>
                <Button type="button" variant="ghost" onClick={() => removeRow(row.uid)} aria-label={`Remove variable ${i + 1}`}>
                  Remove
                </Button>
              </div>
            ))}
          </div>
          <div>
            <Button type="button" variant="secondary" onClick={addRow}>
              Add variable
            </Button>
          </div>
        </fieldset>
        <ErrorNote error={action.error} />
        {said ? <Note kind="success">{said}</Note> : null}
        <div className="form-actions">
          {isDirty(form, agent) ? (
            <Button
              type="button"
              variant="ghost"
              onClick={() => {
                action.setError(null);
                setForm(formOf(agent));
              }}
            >
              Discard changes
            </Button>
          ) : null}
          <Button type="submit" pending={action.pending} disabled={terminated}>
            Save configuration
          </Button>
        </div>
      </form>
    </Card>
  );
}
