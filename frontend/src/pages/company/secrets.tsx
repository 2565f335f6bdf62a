// "/companies/:companyId/secrets": the credentials the company's agents run with. A value goes
// in (add, rotate) and never comes out, so the page shows names, versions and who uses each,
// and how an agent's configuration names one.
import { useState, type FormEvent } from "react";
import { del, get, patch, post } from "../../api";
import { Badge, Button, Card, Empty, ErrorNote, Field, Loading, Note, PageHeader, RowMessage } from "../../components/ui";
import { dateTime, relative } from "../../format";
import { useAction, useData } from "../../hooks";
import { CompanyNotFound } from "./not-found";
import { orNotFound } from "./types";
import { secretTone, type ListedSecret, type Secret } from "./people-types";
import "./company.css";
import "./people.css";

/** Said on the page itself: people look for a "show" button that cannot exist. */
const WRITE_ONLY = "Each value is stored encrypted; nobody can read it back.";

export function Secrets({ params }: { params: Record<string, string> }) {
  const id = params.companyId;
  const secrets = useData(() => orNotFound(get<ListedSecret[]>(`/companies/${id}/secrets`)), [id]);
  const [adding, setAdding] = useState(false);
  const [said, setSaid] = useState<string | null>(null);

  if (secrets.data === null) return <CompanyNotFound />;
  const list = secrets.data ?? [];
  // Changes answer the secret without `referenceCount`: keep the listed one. From the latest
  // list, not this render's, as two rows may finish in either order.
  const replace = (s: Secret) => secrets.setData((prev) => prev?.map((x) => (x.id === s.id ? { ...x, ...s } : x)));
  const remove = (s: Secret) => {
    secrets.setData((prev) => prev?.filter((x) => x.id !== s.id));
    setSaid(`Deleted ${s.name} and every version of it.`);
  };

  return (
    <>
      <PageHeader
        title="Secrets"
        subtitle={`Credentials for the company's agents. ${WRITE_ONLY}`}
        actions={
          <Button variant={adding ? "secondary" : "primary"} onClick={() => setAdding(!adding)} aria-expanded={adding}>
            {adding ? "Close form" : "Add secret"}
          </Button>
        }
      />
      {adding ? (
        <NewSecret
          companyId={id}
          onCreated={(s) => {
            setAdding(false);
            setSaid(`Stored ${s.name} as version ${s.latestVersion}. Its value is encrypted and will not be shown again.`);
            void secrets.reload();
          }}
        />
      ) : null}
      {said ? <Note kind="success">{said}</Note> : null}
      <ErrorNote error={secrets.error} />
      {secrets.data === undefined ? (
        secrets.error ? null : <Loading what="Loading secrets" />
      ) : list.length === 0 ? (
        <Empty title="No secrets yet">Add one with “Add secret”, then name it in an agent's environment.</Empty>
      ) : (
        <Card>
          <table className="table" aria-label="Secrets">
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th>Version</th>
                <th>Used by</th>
                <th>Updated</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <SecretRow key={s.id} secret={s} onChanged={replace} onDeleted={remove} />
              ))}
            </tbody>
          </table>
        </Card>
      )}
      <Card title="How an agent uses a secret">
        <p className="prose">
          Name it in the agent's <code>adapterConfig.env</code>, under any variable name; each run resolves it to the
          latest version (or the one you pin with <code>"version": n</code>). A disabled or deleted secret fails the run,
          naming the variable. “Used by” counts the agents whose configuration holds the secret's id. “Use” on a row shows
          the lines for that secret.
        </p>
        <pre className="snippet">{`"OPENAI_API_KEY": {"type": "secret_ref", "secretId": "<the secret's id>", "version": "latest"}
"OPENAI_API_KEY": "$secret:<the secret's name>"`}</pre>
      </Card>
    </>
  );
}

function SecretRow({ secret: s, onChanged, onDeleted }: { secret: ListedSecret; onChanged: (s: Secret) => void; onDeleted: (s: Secret) => void }) {
  const [open, setOpen] = useState<"use" | "rotate" | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [said, setSaid] = useState<string | null>(null);
  const action = useAction();
  const active = s.status === "active";

  const toggle = (panel: "use" | "rotate") => {
    setSaid(null);
    action.setError(null);
    setOpen(open === panel ? null : panel);
  };
  const setStatus = async (status: "active" | "disabled") => {
    setSaid(null);
    const changed = await action.run(() => patch<Secret>(`/secrets/${s.id}`, { status }));
    if (changed) onChanged(changed);
  };
  const remove = async () => {
    const done = await action.run(() => del(`/secrets/${s.id}`));
    if (done) onDeleted(s);
  };
  const users = s.referenceCount === 1 ? "1 agent" : `${s.referenceCount} agents`;

  return (
    <>
      <tr className={active ? undefined : "dim"} data-secret-id={s.id}>
        <td>
          <strong>{s.name}</strong>
          <div className="muted cell-sub">
            key <code>{s.key}</code>
            {s.description ? ` · ${s.description}` : null}
          </div>
        </td>
        <td>
          <Badge tone={secretTone(s.status)}>{s.status}</Badge>
        </td>
        <td className="nowrap" title={s.lastRotatedAt ? `Current since ${dateTime(s.lastRotatedAt)}` : undefined}>
          v{s.latestVersion}
        </td>
        <td className="nowrap">{s.referenceCount > 0 ? users : <span className="muted">no agent</span>}</td>
        <td className="muted nowrap" title={dateTime(s.updatedAt)}>
          {relative(s.updatedAt)}
        </td>
        <td>
          {confirming ? (
            <div className="row-actions">
              <Button variant="danger" pending={action.pending} onClick={remove} aria-label={`Delete ${s.name} now`}>
                Delete now
              </Button>
              <Button variant="ghost" onClick={() => setConfirming(false)}>
                Keep
              </Button>
            </div>
          ) : (
            <div className="row-actions">
              <Button variant="secondary" onClick={() => toggle("use")} aria-expanded={open === "use"} aria-label={`How agents use ${s.name}`}>
                Use
              </Button>
              <Button
                variant="secondary"
                onClick={() => toggle("rotate")}
                disabled={!active}
                aria-expanded={open === "rotate"}
                aria-label={`Rotate ${s.name}`}
                title={active ? "Store a new value as the next version" : "Enable it first: only an active secret rotates"}
              >
                Rotate
              </Button>
              {active ? (
                <Button variant="secondary" pending={action.pending} onClick={() => setStatus("disabled")} aria-label={`Disable ${s.name}`}>
                  Disable
                </Button>
              ) : (
                <Button variant="secondary" pending={action.pending} onClick={() => setStatus("active")} aria-label={`Enable ${s.name}`}>
                  Enable
                </Button>
              )}
              <Button
                variant="danger"
                onClick={() => {
                  setOpen(null);
                  setConfirming(true);
                }}
                aria-label={`Delete ${s.name}`}
              >
                Delete
              </Button>
            </div>
          )}
        </td>
      </tr>
      {confirming && s.referenceCount > 0 ? (
        <RowMessage colSpan={6}>
          <Note kind="warning">
            {users} name {s.name}: their runs fail until they name another secret.
          </Note>
        </RowMessage>
      ) : null}
      {open === "use" ? (
        <RowMessage colSpan={6}>
          <Usage secret={s} />
        </RowMessage>
      ) : null}
      {open === "rotate" ? (
        <RowMessage colSpan={6}>
          <Rotate
            secret={s}
            onCancel={() => setOpen(null)}
            onRotated={(rotated) => {
              onChanged(rotated);
              setOpen(null);
              setSaid(`${s.name} is at version ${rotated.latestVersion}: agents get the new value at their next run.`);
            }}
          />
        </RowMessage>
      ) : null}
      {action.error || said ? (
        <RowMessage colSpan={6}>{action.error ? <ErrorNote error={`${s.name}: ${action.error}`} /> : <Note kind="success">{said}</Note>}</RowMessage>
      ) : null}
    </>
  );
}

/** The two ways an agent's env names this secret; the variable name is the agent's to choose. */
function Usage({ secret: s }: { secret: Secret }) {
  const variable = s.key.toUpperCase().replace(/[^A-Z0-9_]+/g, "_").replace(/^([0-9])/, "_$1");
  const ref = JSON.stringify({ type: "secret_ref", secretId: s.id, version: "latest" });
  return (
    <div className="usage" aria-label={`How agents use ${s.name}`} role="region">
      <span className="muted">In an agent's adapterConfig.env, under a variable name of your choice:</span>
      <pre className="snippet">{`"${variable}": ${ref}\n"${variable}": ${JSON.stringify(`$secret:${s.name}`)}`}</pre>
    </div>
  );
}

function Rotate({ secret: s, onRotated, onCancel }: { secret: Secret; onRotated: (s: Secret) => void; onCancel: () => void }) {
  const [value, setValue] = useState("");
  const action = useAction();
  const fieldId = `rotate-${s.id}`;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const rotated = await action.run(() => post<Secret>(`/secrets/${s.id}/rotate`, { value }));
    // The value leaves the page's state as soon as the server has it.
    setValue("");
    if (rotated) onRotated(rotated);
  };

  return (
    <form onSubmit={submit} aria-label={`Rotate ${s.name}`} className="inline-form">
      <div className="form-row">
        <Field label="New value" htmlFor={fieldId} hint={`Becomes version ${s.latestVersion + 1}; earlier versions stay for agents that pin them.`}>
          <input id={fieldId} type="password" autoComplete="new-password" data-1p-ignore data-lpignore="true" value={value} onChange={(e) => setValue(e.target.value)} required autoFocus />
        </Field>
        <div className="form-actions field-aligned">
          <Button variant="ghost" type="button" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" pending={action.pending}>
            Rotate
          </Button>
        </div>
      </div>
      <ErrorNote error={action.error} />
    </form>
  );
}

/** The server's key for a name (server/src/domain/secrets.rs normalize_key), for the hint. */
function keyOf(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 120);
}

function NewSecret({ companyId, onCreated }: { companyId: string; onCreated: (s: Secret) => void }) {
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [key, setKey] = useState("");
  const [description, setDescription] = useState("");
  const action = useAction();
  const defaultKey = keyOf(name);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const created = await action.run(() =>
      post<Secret>(`/companies/${companyId}/secrets`, {
        name: name.trim(),
        value,
        key: key.trim() || undefined,
        description: description.trim() || undefined,
      }),
    );
    if (created) {
      setValue("");
      onCreated(created);
    }
  };

  return (
    <Card title="Add secret">
      <form onSubmit={submit} aria-label="Add secret">
        <div className="form-row top">
          <Field label="Name" htmlFor="secret-name" hint="How people and agents know it, e.g. “OpenAI”.">
            <input id="secret-name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} autoComplete="off" autoFocus />
          </Field>
          <Field label="Key" htmlFor="secret-key" hint={defaultKey ? `Optional; empty: ${defaultKey}` : "Optional; empty: made from the name."}>
            <input id="secret-key" value={key} onChange={(e) => setKey(e.target.value)} maxLength={120} autoComplete="off" placeholder={defaultKey || undefined} />
          </Field>
        </div>
        <Field label="Value" htmlFor="secret-value" hint="Stored encrypted; nobody can read it back. To change it later, rotate the secret.">
          <input id="secret-value" type="password" value={value} onChange={(e) => setValue(e.target.value)} required autoComplete="new-password" data-1p-ignore data-lpignore="true" />
        </Field>
        <Field label="Description" htmlFor="secret-description" hint="Optional: what it is for, who issued it.">
          <input id="secret-description" value={description} onChange={(e) => setDescription(e.target.value)} maxLength={2000} autoComplete="off" />
        </Field>
        <ErrorNote error={action.error} />
        <div className="form-actions">
          <Button type="submit" pending={action.pending}>
            Add secret
          </Button>
        </div>
      </form>
    </Card>
  );
}
