// Board API keys: tokens that act as you for the CLI and scripts. Each shows when it expires
// (never, unless you chose a date); a key is cut off only at the time shown here.
import { useState, type FormEvent } from "react";
import { del, get, post } from "../../api";
import { Badge, Button, Card, Empty, ErrorNote, Field, Loading, Note, PageHeader, SecretValue, ConfirmAction } from "../../components/ui";
import { dateTime, relative } from "../../format";
import { useAction, useData } from "../../hooks";
import type { BoardApiKey } from "../../types";
import { expiryChoices, expiryFrom, keyState } from "./key-expiry";

interface CreatedKey extends BoardApiKey {
  token: string;
}

export function ApiKeys(_: { params: Record<string, string> }) {
  const keys = useData(() => get<BoardApiKey[]>("/board-api-keys?includeInactive=true"), []);
  const [created, setCreated] = useState<CreatedKey | null>(null);

  return (
    <>
      <PageHeader
        title="API keys"
        subtitle={
          <>
            Board API keys let the <code>paperclip</code> CLI and your scripts act as you: send one as{" "}
            <code>Authorization: Bearer &lt;key&gt;</code>.
          </>
        }
      />
      {created ? (
        <Card title={`New key “${created.name}”`}>
          <Note kind="warning">Copy this token now: it is shown once and cannot be read again.</Note>
          <SecretValue value={created.token} label="New board API key" />
          <p className="muted">{created.expiresAt ? `It expires ${relative(created.expiresAt)} (${dateTime(created.expiresAt)}).` : "It never expires; revoke it here when you no longer need it."}</p>
          <div>
            <Button variant="secondary" onClick={() => setCreated(null)}>
              Done
            </Button>
          </div>
        </Card>
      ) : null}
      <NewKey
        onCreated={(key) => {
          setCreated(key);
          void keys.reload();
        }}
      />
      <Card title="Your keys">
        {keys.loading && !keys.data ? <Loading what="Loading keys" /> : null}
        <ErrorNote error={keys.error} />
        {keys.data && keys.data.length === 0 ? <Empty title="No API keys yet">Create one above for the CLI or a script.</Empty> : null}
        {keys.data && keys.data.length > 0 ? <KeyTable keys={keys.data} onChanged={() => void keys.reload()} /> : null}
      </Card>
    </>
  );
}

function NewKey({ onCreated }: { onCreated: (key: CreatedKey) => void }) {
  const [name, setName] = useState("");
  const [choice, setChoice] = useState("never");
  const [date, setDate] = useState("");
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const expiry = expiryFrom(choice, date);
    if ("error" in expiry) {
      action.setError(expiry.error);
      return;
    }
    const key = await action.run(() =>
      post<CreatedKey>("/board-api-keys", { name: name.trim() || undefined, expiresAt: expiry.expiresAt }),
    );
    if (key) {
      setName("");
      setChoice("never");
      setDate("");
      onCreated(key);
    }
  };

  return (
    <Card title="Create a key">
      <form onSubmit={submit}>
        <div className="form-row">
          <Field label="Name" htmlFor="key-name" hint="What the key is for, e.g. “deploy script”.">
            <input id="key-name" value={name} maxLength={120} placeholder="paperclip cli" onChange={(e) => setName(e.target.value)} />
          </Field>
          <Field label="Expires" htmlFor="key-expiry" hint="Never, unless you choose.">
            <select
              id="key-expiry"
              value={choice}
              onChange={(e) => {
                setChoice(e.target.value);
                action.setError(null);
              }}
            >
              {expiryChoices.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label}
                </option>
              ))}
            </select>
          </Field>
          {choice === "date" ? (
            <Field label="Expiry date" htmlFor="key-expiry-date">
              <input
                id="key-expiry-date"
                type="date"
                value={date}
                onChange={(e) => {
                  setDate(e.target.value);
                  action.setError(null);
                }}
              />
            </Field>
          ) : null}
        </div>
        <ErrorNote error={action.error} />
        <div>
          <Button type="submit" pending={action.pending}>
            Create key
          </Button>
        </div>
      </form>
    </Card>
  );
}

function KeyTable({ keys, onChanged }: { keys: BoardApiKey[]; onChanged: () => void }) {
  return (
    <table className="table" aria-label="Board API keys">
      <thead>
        <tr>
          <th>Name</th>
          <th>Status</th>
          <th>Expires</th>
          <th>Created</th>
          <th>Last used</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {keys.map((k) => (
          <KeyRow key={k.id} k={k} onChanged={onChanged} />
        ))}
      </tbody>
    </table>
  );
}

function KeyRow({ k, onChanged }: { k: BoardApiKey; onChanged: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const action = useAction();
  const state = keyState(k);
  const revoke = async () => {
    const done = await action.run(() => del(`/board-api-keys/${k.id}`));
    if (done) onChanged();
  };
  return (
    <tr className={state.active ? undefined : "dim"} data-key-id={k.id}>
      <td>{k.name}</td>
      <td>
        <Badge tone={state.tone}>{state.label}</Badge>
      </td>
      <td title={k.expiresAt ? dateTime(k.expiresAt) : undefined}>
        {k.expiresAt ? (
          <>
            {dateTime(k.expiresAt)} <span className="muted">({relative(k.expiresAt)})</span>
          </>
        ) : (
          "Never"
        )}
      </td>
      <td title={dateTime(k.createdAt)}>{relative(k.createdAt)}</td>
      <td>{k.lastUsedAt ? relative(k.lastUsedAt) : <span className="muted">never</span>}</td>
      <td className="num">
        {state.active ? (
          <span className="actions">
            <ConfirmAction
              confirming={confirming}
              setConfirming={setConfirming}
              onConfirm={revoke}
              pending={action.pending}
              label="Revoke"
              ariaLabel={`Revoke ${k.name}`}
              confirmLabel="Revoke now"
            />
          </span>
        ) : null}
        <ErrorNote error={action.error} />
      </td>
    </tr>
  );
}
