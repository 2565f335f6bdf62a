// Sign in with email and password (authenticated mode).
import { useState, type FormEvent } from "react";
import { post } from "../../api";
import { Centered } from "../../components/layout";
import { Button, ErrorNote, Note } from "../../components/ui";
import { EmailField, PasswordField } from "./fields";
import { useAction } from "../../hooks";
import { Link, navigate, useLocation } from "../../router";
import { useSession } from "../../session";
import { LocalMode } from "./local-mode";
import { nextPath } from "./next";

export function SignIn(_: { params: Record<string, string> }) {
  const { search } = useLocation();
  const { refresh, authenticated, session } = useSession();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const action = useAction();
  const next = nextPath(search);

  if (!authenticated) return <LocalMode title="No sign-in needed" to={next} />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const done = await action.run(() => post("/auth/sign-in/email", { email, password }));
    if (done) {
      await refresh();
      navigate(next, { replace: true });
    }
  };

  return (
    <Centered>
      <h1>Sign in to Paperclip</h1>
      {session ? <Note>You are signed in as {session.user.email ?? session.user.name}.</Note> : null}
      <form onSubmit={submit}>
        <EmailField value={email} onChange={setEmail} />
        <PasswordField value={password} onChange={setPassword} />
        <ErrorNote error={action.error} />
        <Button type="submit" pending={action.pending}>
          Sign in
        </Button>
      </form>
      <p className="muted">
        No account yet? <Link to={`/sign-up?next=${encodeURIComponent(next)}`}>Create one</Link>
      </p>
    </Centered>
  );
}
