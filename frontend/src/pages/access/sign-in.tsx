// Sign in with email and password (authenticated mode).
import { useState, type FormEvent } from "react";
import { post } from "../../api";
import { Centered } from "../../components/layout";
import { Button, ErrorNote, Field, Note } from "../../components/ui";
import { useAction } from "../../hooks";
import { Link, navigate, useLocation } from "../../router";
import { useSession } from "../../session";
import { nextPath } from "./next";

export function SignIn(_: { params: Record<string, string> }) {
  const { search } = useLocation();
  const { refresh, authenticated, session } = useSession();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const action = useAction();
  const next = nextPath(search);

  if (!authenticated) {
    return (
      <Centered>
        <h1>No sign-in needed</h1>
        <Note>This server runs in local_trusted mode: everyone on this machine is the board.</Note>
        <Link to={next}>Open the board</Link>
      </Centered>
    );
  }

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
        <Field label="Email" htmlFor="email">
          <input id="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </Field>
        <Field label="Password" htmlFor="password">
          <input
            id="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </Field>
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
