// The email and password inputs of the sign-in and account forms, labelled alike so a person
// (and the browser's password manager) meets the same fields on both.
import { Field } from "../../components/ui";

export function EmailField({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  return (
    <Field label="Email" htmlFor="email">
      <input id="email" type="email" autoComplete="email" required value={value} onChange={(e) => onChange(e.target.value)} />
    </Field>
  );
}

export function PasswordField({ value, onChange, isNew, hint }: { value: string; onChange: (value: string) => void; isNew?: boolean; hint?: string }) {
  return (
    <Field label="Password" htmlFor="password" hint={hint}>
      <input
        id="password"
        type="password"
        autoComplete={isNew ? "new-password" : "current-password"}
        required
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    </Field>
  );
}
