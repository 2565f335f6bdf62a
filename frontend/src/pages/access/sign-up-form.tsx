// The account form, used on its own page and inside an invite.
import { useState, type FormEvent } from "react";
import { post } from "../../api";
import { Button, ErrorNote, Field } from "../../components/ui";
import { EmailField, PasswordField } from "./fields";
import { useAction } from "../../hooks";
import { useSession } from "../../session";

const MIN_PASSWORD = 8;

export function SignUpForm({ inviteToken, onDone }: { inviteToken?: string; onDone: () => void }) {
  const { refresh } = useSession();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (password.length < MIN_PASSWORD) {
      action.setError(`The password needs at least ${MIN_PASSWORD} characters.`);
      return;
    }
    const done = await action.run(() => post("/auth/sign-up/email", { name, email, password, inviteToken }));
    if (done) {
      await refresh();
      onDone();
    }
  };

  return (
    <form onSubmit={submit}>
      <Field label="Name" htmlFor="name">
        <input id="name" autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <EmailField value={email} onChange={setEmail} />
      <PasswordField value={password} onChange={setPassword} isNew hint={`At least ${MIN_PASSWORD} characters.`} />
      <ErrorNote error={action.error} />
      <Button type="submit" pending={action.pending}>
        Create account
      </Button>
    </form>
  );
}
