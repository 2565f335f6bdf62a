// An invite link: to a company, or the bootstrap invite that makes the instance's first
// admin. Signed out, the person creates an account (or signs in) right here, then accepts.
import { get, post } from "../../api";
import { Centered } from "../../components/layout";
import { Button, ErrorNote, Loading, Note } from "../../components/ui";
import { dateTime, relative } from "../../format";
import { useAction, useData } from "../../hooks";
import { Link, navigate } from "../../router";
import { useSession } from "../../session";
import { LocalMode } from "./local-mode";
import { signInHere } from "./next";
import { SignUpForm } from "./sign-up-form";

interface InviteView {
  id: string;
  companyId: string | null;
  companyName: string | null;
  inviteType: string;
  humanRole: string | null;
  expiresAt: string;
  state: string;
}

interface Accepted {
  companyId?: string;
  bootstrapAccepted?: boolean;
}

export function Invite({ params }: { params: Record<string, string> }) {
  const token = params.token;
  const { session, authenticated, refresh } = useSession();
  const invite = useData(() => get<InviteView>(`/invites/${encodeURIComponent(token)}`), [token]);
  const accept = useAction();

  if (!authenticated) return <LocalMode title="Invites need a team server" />;
  if (invite.loading && !invite.data) return <Loading what="Reading the invite" />;
  if (invite.error || !invite.data) {
    return (
      <Centered>
        <h1>This invite cannot be used</h1>
        <ErrorNote error={invite.error ?? "Invite not found"} />
        <p className="muted">It may have been used already, revoked, or have expired. Ask whoever sent it for a new one.</p>
      </Centered>
    );
  }
  const i = invite.data;
  const bootstrap = i.companyId === null;
  const what = bootstrap ? "the first administrator of this Paperclip instance" : `a member of ${i.companyName ?? "a company"}`;

  const doAccept = async () => {
    const done = await accept.run(() => post<Accepted>(`/invites/${encodeURIComponent(token)}/accept`, { requestType: "human" }));
    if (done) {
      await refresh();
      navigate(done.companyId ? `/companies/${done.companyId}` : "/", { replace: true });
    }
  };

  return (
    <Centered>
      <h1>{bootstrap ? "Set up this Paperclip instance" : `Join ${i.companyName ?? "the company"}`}</h1>
      <p>
        This invite makes you {what}
        {i.humanRole && !bootstrap ? ` (role: ${i.humanRole})` : ""}. It expires {relative(i.expiresAt)} (
        {dateTime(i.expiresAt)}).
      </p>
      {session ? (
        <>
          <Note>Signed in as {session.user.email ?? session.user.name}.</Note>
          <ErrorNote error={accept.error} />
          <Button onClick={doAccept} pending={accept.pending}>
            Accept invite
          </Button>
        </>
      ) : (
        <>
          <SignUpForm inviteToken={token} onDone={() => undefined} />
          <p className="muted">
            Have an account? <Link to={signInHere()}>Sign in</Link> and come back to this link.
          </p>
        </>
      )}
    </Centered>
  );
}
