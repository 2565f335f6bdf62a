// The one-time board claim: an instance that ran local_trusted and now runs authenticated is
// taken over by the first person who opens the printed URL signed in.
import { get, post } from "../../api";
import { Centered } from "../../components/layout";
import { Button, ErrorNote, Loading, Note } from "../../components/ui";
import { dateTime, relative } from "../../format";
import { useAction, useData } from "../../hooks";
import { Link, useLocation } from "../../router";
import { useSession } from "../../session";
import { signInHere } from "./next";

interface ClaimView {
  status: "available" | "claimed" | "expired";
  expiresAt: string;
  claimedByUserId: string | null;
}

export function BoardClaim({ params }: { params: Record<string, string> }) {
  const token = params.token;
  const { search } = useLocation();
  const code = search.get("code") ?? "";
  const { session, refresh } = useSession();
  const claim = useData(
    () => get<ClaimView>(`/board-claim/${encodeURIComponent(token)}?code=${encodeURIComponent(code)}`),
    [token, code],
  );
  const action = useAction();

  if (claim.loading && !claim.data) return <Loading what="Reading the claim" />;
  if (claim.error || !claim.data) {
    return (
      <Centered>
        <h1>This claim link does not work</h1>
        <ErrorNote error={claim.error ?? "Claim not found"} />
        <p className="muted">Copy the whole URL the server printed at start, including its <code>?code=</code>.</p>
      </Centered>
    );
  }
  const c = claim.data;
  const mine = session && c.claimedByUserId === session.user.id;

  const doClaim = async () => {
    const done = await action.run(() => post(`/board-claim/${encodeURIComponent(token)}/claim`, { code }));
    if (done) {
      await refresh();
      await claim.reload();
    }
  };

  return (
    <Centered>
      <h1>Claim this Paperclip instance</h1>
      {c.status === "claimed" ? (
        mine ? (
          <>
            <Note kind="success">You own this instance now: you are its administrator and owner of every company.</Note>
            <Link to="/">Open the board</Link>
          </>
        ) : (
          <Note kind="warning">This instance has already been claimed.</Note>
        )
      ) : c.status === "expired" ? (
        <Note kind="warning">This claim expired {relative(c.expiresAt)}. Restart the server to print a new one.</Note>
      ) : (
        <>
          <p>
            The instance used to run without sign-in. Claiming it makes you its administrator and the owner of every
            company in it, in place of the built-in local board. The link works once and expires {relative(c.expiresAt)} (
            {dateTime(c.expiresAt)}).
          </p>
          {session ? (
            <>
              <Note>Signed in as {session.user.email ?? session.user.name}.</Note>
              <ErrorNote error={action.error} />
              <Button onClick={doClaim} pending={action.pending}>
                Claim instance
              </Button>
            </>
          ) : (
            <p>
              <Link to={signInHere("sign-up")}>Create an account</Link> or <Link to={signInHere()}>sign in</Link> first; you will
              come back here.
            </p>
          )}
        </>
      )}
    </Centered>
  );
}
