// The settings each adapter reads (the names in server/src/adapters/*), how the configuration
// card shows and parses each kind of value, and the control for one setting.
import { Field, Options } from "../../components/ui";

export type FieldKind = "text" | "lines" | "number" | "bool" | "json" | "headers" | "select";
export interface FieldSpec {
  key: string;
  label: string;
  kind: FieldKind;
  hint?: string;
  placeholder?: string;
  options?: readonly string[];
  /** What the adapter assumes when the key is absent (bool fields). */
  defaultBool?: boolean;
}

const TIMEOUTS: FieldSpec[] = [
  { key: "timeoutSec", label: "Timeout (seconds)", kind: "number", placeholder: "1800", hint: "The run is stopped after this long; 0 is refused." },
  { key: "idleTimeoutSec", label: "Idle timeout (seconds)", kind: "number", hint: "Stop after this long without output. Empty: never." },
  { key: "graceSec", label: "Grace (seconds)", kind: "number", placeholder: "15", hint: "Between SIGTERM and SIGKILL." },
];
const CLI_COMMON: FieldSpec[] = [
  { key: "cwd", label: "Working directory", kind: "text", hint: "An absolute path." },
  { key: "instructionsFilePath", label: "Instructions file", kind: "text", hint: "A file whose text starts a new session." },
];
const HTTP_METHODS = ["POST", "GET", "PUT", "PATCH", "DELETE"] as const;

/** The settings each adapter reads (server/src/adapters/{process,http}.rs, claude_local, codex_local). */
export const ADAPTER_FIELDS: Record<string, FieldSpec[]> = {
  process: [
    { key: "command", label: "Command", kind: "text", placeholder: "sh", hint: "A program on PATH or a path." },
    { key: "args", label: "Arguments", kind: "lines", hint: "One per line, passed as they are (no shell)." },
    { key: "cwd", label: "Working directory", kind: "text", hint: "An absolute path." },
    ...TIMEOUTS,
  ],
  http: [
    { key: "url", label: "URL", kind: "text", placeholder: "https://agents.example.com/wake", hint: "http or https." },
    { key: "method", label: "Method", kind: "select", options: HTTP_METHODS },
    { key: "headers", label: "Headers", kind: "headers", hint: "One “Name: value” per line." },
    { key: "timeoutMs", label: "Request timeout (ms)", kind: "number" },
    { key: "payloadTemplate", label: "Payload template", kind: "json", hint: "A JSON object; agentId, runId, context and callbackUrl are added." },
    { key: "timeoutSec", label: "Callback wait (seconds)", kind: "number", hint: "How long a 202 waits for the callback." },
  ],
  claude_local: [
    { key: "command", label: "Command", kind: "text", placeholder: "claude" },
    { key: "model", label: "Model", kind: "text" },
    { key: "effort", label: "Effort", kind: "text" },
    ...CLI_COMMON,
    { key: "maxTurnsPerRun", label: "Max turns per run", kind: "number", hint: "0 or empty: no limit." },
    { key: "dangerouslySkipPermissions", label: "Skip permission prompts", kind: "bool", defaultBool: true },
    { key: "extraArgs", label: "Extra arguments", kind: "lines", hint: "One per line, added to the CLI's." },
    ...TIMEOUTS,
  ],
  codex_local: [
    { key: "command", label: "Command", kind: "text", placeholder: "codex" },
    { key: "model", label: "Model", kind: "text" },
    { key: "modelReasoningEffort", label: "Reasoning effort", kind: "text" },
    ...CLI_COMMON,
    { key: "search", label: "Web search", kind: "bool", defaultBool: false },
    { key: "dangerouslyBypassApprovalsAndSandbox", label: "Bypass approvals and sandbox", kind: "bool", defaultBool: false },
    { key: "extraArgs", label: "Extra arguments", kind: "lines", hint: "One per line, added to the CLI's." },
    ...TIMEOUTS,
  ],
};

/** A field's value as the form edits it (text). */
export function shown(spec: FieldSpec, value: unknown): string {
  if (value === undefined || value === null) return spec.kind === "bool" ? String(spec.defaultBool ?? false) : "";
  switch (spec.kind) {
    case "lines":
      return Array.isArray(value) ? value.map(String).join("\n") : String(value);
    case "bool":
      return String(value === true);
    case "json":
      return typeof value === "string" ? value : JSON.stringify(value, null, 2);
    case "headers":
      return value && typeof value === "object"
        ? Object.entries(value as Record<string, unknown>)
            .map(([k, v]) => `${k}: ${String(v)}`)
            .join("\n")
        : String(value);
    default:
      return typeof value === "string" ? value : JSON.stringify(value);
  }
}

/** The edited text back as the value to store; undefined removes the key. Throws a sentence. */
export function parsed(spec: FieldSpec, text: string): unknown {
  const t = text.trim();
  switch (spec.kind) {
    case "bool":
      return text === "true";
    case "lines": {
      const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
      return lines.length ? lines : undefined;
    }
    case "number": {
      if (!t) return undefined;
      const n = Number(t);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${spec.label}: a number, 0 or more.`);
      return n;
    }
    case "json": {
      if (!t) return undefined;
      let v: unknown;
      try {
        v = JSON.parse(t);
      } catch {
        throw new Error(`${spec.label}: not valid JSON.`);
      }
      if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error(`${spec.label}: a JSON object.`);
      return v;
    }
    case "headers": {
      const out: Record<string, string> = {};
      for (const line of text.split("\n")) {
        if (!line.trim()) continue;
        const at = line.indexOf(":");
        if (at <= 0) throw new Error(`${spec.label}: “${line.trim()}” is not “Name: value”.`);
        out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
      }
      return Object.keys(out).length ? out : undefined;
    }
    default:
      return t ? t : undefined;
  }
}

export function AdapterField({ spec, value, onChange }: { spec: FieldSpec; value: string; onChange: (value: string) => void }) {
  const id = `cfg-${spec.key}`;
  if (spec.kind === "bool")
    return (
      <label className="check config-check">
        <input type="checkbox" checked={value === "true"} onChange={(e) => onChange(String(e.target.checked))} /> {spec.label}
      </label>
    );
  let control;
  if (spec.kind === "select")
    control = (
      <select id={id} value={value || spec.options?.[0] || ""} onChange={(e) => onChange(e.target.value)}>
        <Options values={spec.options ?? []} />
      </select>
    );
  else if (spec.kind === "lines" || spec.kind === "json" || spec.kind === "headers")
    control = <textarea id={id} value={value} rows={spec.kind === "json" ? 4 : 3} onChange={(e) => onChange(e.target.value)} spellCheck={false} className="mono" />;
  else
    control = (
      <input
        id={id}
        value={value}
        type={spec.kind === "number" ? "number" : "text"}
        min={spec.kind === "number" ? 0 : undefined}
        step="any"
        placeholder={spec.placeholder}
        onChange={(e) => onChange(e.target.value)}
        autoComplete="off"
        spellCheck={false}
      />
    );
  return (
    <Field label={spec.label} htmlFor={id} hint={spec.hint}>
      {control}
    </Field>
  );
}
