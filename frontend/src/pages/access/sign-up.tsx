// Create an account (authenticated mode). With `?invite=<token>` it works even when the
// server has sign-up turned off, and the invite is accepted next.
import { Centered } from "../../components/layout";
import { Note } from "../../components/ui";
import { Link, navigate, useLocation } from "../../router";
import { useSession } from "../../session";
import { nextPath } from "./next";
import { SignUpForm } from "./sign-up-form";

export function SignUp(_: { params: Record<string, string> }) {
  const { search } = useLocation();
  const { authenticated } = useSession();
  const next = nextPath(search);
  if (!authenticated) {
    return (
      <Centered>
        <h1>No account needed</h1>
        <Note>This server runs in local_trusted mode: everyone on this machine is the board.</Note>
        <Link to="/">Open the board</Link>
      </Centered>
    );
  }
  return (
    <Centered>
      <h1>Create your account</h1>
      <SignUpForm inviteToken={search.get("invite") ?? undefined} onDone={() => navigate(next, { replace: true })} />
      <p className="muted">
        Have an account? <Link to={`/sign-in?next=${encodeURIComponent(next)}`}>Sign in</Link>
      </p>
    </Centered>
  );
}
