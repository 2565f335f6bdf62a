// The board's small building blocks: one look for every page.
import { useState, type ButtonHTMLAttributes, type ReactNode } from "react";

export function Button({
  variant = "primary",
  pending,
  children,
  ...rest
}: { variant?: "primary" | "secondary" | "danger" | "ghost"; pending?: boolean } & ButtonHTMLAttributes<HTMLButtonElement>) {
  return (
    <button className={`btn btn-${variant}`} {...rest} disabled={pending || rest.disabled}>
      {pending ? <span className="spinner" aria-hidden /> : null}
      {children}
    </button>
  );
}

/** A labelled form control; `hint` explains, `htmlFor` ties the label to the input's id. */
export function Field({ label, hint, htmlFor, children }: { label: string; hint?: ReactNode; htmlFor: string; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={htmlFor}>{label}</label>
      {children}
      {hint ? <div className="hint">{hint}</div> : null}
    </div>
  );
}

/** The server's error sentence, shown where the action was taken. */
export function ErrorNote({ error }: { error: string | null | undefined }) {
  if (!error) return null;
  return (
    <div className="note note-error" role="alert">
      {error}
    </div>
  );
}

export function Note({ kind = "info", children }: { kind?: "info" | "success" | "warning"; children: ReactNode }) {
  return (
    <div className={`note note-${kind}`} role="status">
      {children}
    </div>
  );
}

export function PageHeader({ title, subtitle, actions }: { title: string; subtitle?: ReactNode; actions?: ReactNode }) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle ? <p className="subtitle">{subtitle}</p> : null}
      </div>
      {actions ? <div className="actions">{actions}</div> : null}
    </header>
  );
}

export function Card({ title, children, actions }: { title?: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className="card">
      {title || actions ? (
        <div className="card-head">
          {title ? <h2>{title}</h2> : <span />}
          {actions}
        </div>
      ) : null}
      {children}
    </section>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <strong>{title}</strong>
      {children ? <div>{children}</div> : null}
    </div>
  );
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden /> {what}…
    </div>
  );
}

/** A status word in its colour: `tone` picks the colour, the text is what the server said. */
/** The colours a status can take: its meaning, not a hue. */
export type Tone = "neutral" | "good" | "warn" | "bad" | "info";

export function Badge({ tone = "neutral", children }: { tone?: Tone; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

/** A value shown once (a new token): selectable, with a copy button. */
export function SecretValue({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState(false);
  const [failed, setFailed] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      // No clipboard (plain http on a LAN address): the token is selectable, say so.
      setFailed(true);
    }
  };
  return (
    <div className="secret-value">
      <code aria-label={label} data-testid="secret-value">
        {value}
      </code>
      <Button variant="secondary" type="button" onClick={copy}>
        {copied ? "Copied" : "Copy"}
      </Button>
      {failed ? <span className="hint">This browser cannot copy here: select the token and copy it.</span> : null}
    </div>
  );
}

/** The `<option>`s of a fixed list of values, each shown as `label(value)`. */
export function Options({ values, label = (v) => v }: { values: readonly string[]; label?: (value: string) => string }) {
  return (
    <>
      {values.map((v) => (
        <option key={v} value={v}>
          {label(v)}
        </option>
      ))}
    </>
  );
}

/** A destructive action asked twice: `label` asks, `confirmLabel` acts, "Keep" backs out. The
 * caller keeps `confirming` (it may show a warning beside the question). */
export function ConfirmAction({
  confirming,
  setConfirming,
  onConfirm,
  label,
  confirmLabel,
  ariaLabel,
  confirmAriaLabel,
  pending,
  variant = "secondary",
}: {
  confirming: boolean;
  setConfirming: (value: boolean) => void;
  onConfirm: () => void;
  label: string;
  confirmLabel: string;
  ariaLabel?: string;
  confirmAriaLabel?: string;
  pending?: boolean;
  variant?: "secondary" | "danger";
}) {
  if (!confirming) {
    return (
      <Button variant={variant} onClick={() => setConfirming(true)} aria-label={ariaLabel}>
        {label}
      </Button>
    );
  }
  return (
    <>
      <Button variant="danger" pending={pending} onClick={onConfirm} aria-label={confirmAriaLabel}>
        {confirmLabel}
      </Button>
      <Button variant="ghost" onClick={() => setConfirming(false)}>
        Keep
      </Button>
    </>
  );
}

/** A full-width row under a table row: its question, form, error or result. */
export function RowMessage({ colSpan, children }: { colSpan: number; children: ReactNode }) {
  return (
    <tr className="row-message">
      <td colSpan={colSpan}>{children}</td>
    </tr>
  );
}
