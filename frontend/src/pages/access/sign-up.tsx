// Create an account (authenticated mode). With `?invite=<token>` it works even when the
// server has sign-up turned off, and the invite is accepted next.
import { Centered } from "../../components/layout";
import { Link, navigate, useLocation } from "../../router";
import { useSession } from "../../session";
import { LocalMode } from "./local-mode";
import { nextPath } from "./next";
import { SignUpForm } from "./sign-up-form";

export function SignUp(_: { params: Record<string, string> }) {
  const { search } = useLocation();
  const { authenticated } = useSession();
  const next = nextPath(search);
  if (!authenticated) return <LocalMode title="No account needed" />;
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
