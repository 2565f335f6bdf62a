// Approving `paperclip auth login`: the CLI printed this page's URL and waits while a person
// who is signed in here approves (its key then works as theirs) or cancels.
import { get, post } from "../../api";
import { Centered } from "../../components/layout";
import { Badge, Button, ErrorNote, Loading, Note } from "../../components/ui";
import { dateTime, relative } from "../../format";
import { useAction, useData } from "../../hooks";
import { Link, useLocation } from "../../router";
import { useSession } from "../../session";
import { signInHere } from "./next";

interface Challenge {
  id: string;
  status: "pending" | "approved" | "cancelled" | "expired";
  command: string | null;
  clientName: string | null;
  requestedAccess: "board" | "instance_admin_required";
  requestedCompanyName: string | null;
  expiresAt: string;
  requiresSignIn: boolean;
  canApprove: boolean;
  approvedByUser: { id: string; name: string; email: string | null } | null;
}

const tones = { pending: "info", approved: "good", cancelled: "neutral", expired: "warn" } as const;

export function CliAuth({ params }: { params: Record<string, string> }) {
  const id = params.id;
  const { search } = useLocation();
  const secret = search.get("token") ?? "";
  const { session } = useSession();
  const challenge = useData(
    () => get<Challenge>(`/cli-auth/challenges/${encodeURIComponent(id)}?token=${encodeURIComponent(secret)}`),
    [id, secret, session?.user.id],
  );
  const action = useAction();

  if (challenge.loading && !challenge.data) return <Loading what="Reading the request" />;
  if (challenge.error || !challenge.data) {
    return (
      <Centered>
        <h1>This sign-in request is not valid</h1>
        <ErrorNote error={challenge.error ?? "CLI auth challenge not found"} />
        <p className="muted">Run <code>paperclip auth login</code> again and open the URL it prints.</p>
      </Centered>
    );
  }
  const c = challenge.data;
  const decide = async (verb: "approve" | "cancel") => {
    const done = await action.run(() => post(`/cli-auth/challenges/${encodeURIComponent(id)}/${verb}`, { token: secret }));
    if (done) await challenge.reload();
  };

  return (
    <Centered>
      <h1>Sign in the Paperclip CLI</h1>
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <Badge tone={tones[c.status]}>{c.status}</Badge>
        </dd>
        <dt>Command</dt>
        <dd>
          <code>{c.command ?? "paperclip auth login"}</code>
        </dd>
        {c.clientName ? (
          <>
            <dt>Client</dt>
            <dd>{c.clientName}</dd>
          </>
        ) : null}
        <dt>Access</dt>
        <dd>{c.requestedAccess === "board" ? "the board, as you" : "the board, as you (instance administrators only)"}</dd>
        {c.requestedCompanyName ? (
          <>
            <dt>Company</dt>
            <dd>{c.requestedCompanyName}</dd>
          </>
        ) : null}
        <dt>Expires</dt>
        <dd>
          {relative(c.expiresAt)} ({dateTime(c.expiresAt)})
        </dd>
      </dl>
      {c.status === "approved" ? (
        <Note kind="success">
          Approved{c.approvedByUser ? ` by ${c.approvedByUser.name}` : ""}. Go back to your terminal: the CLI is signed in.
        </Note>
      ) : c.status === "cancelled" ? (
        <Note>Cancelled. The CLI was not signed in.</Note>
      ) : c.status === "expired" ? (
        <Note kind="warning">This request expired. Run the command again.</Note>
      ) : c.requiresSignIn ? (
        <p>
          <Link to={signInHere()}>Sign in</Link> to approve this request.
        </p>
      ) : !c.canApprove ? (
        <Note kind="warning">Only an instance administrator can approve this request.</Note>
      ) : (
        <>
          <p className="muted">
            Approve only if you just ran this command yourself. The CLI gets a board API key that acts as you for 30 days;
            you can revoke it under Settings → API keys.
          </p>
          <ErrorNote error={action.error} />
          <div className="actions">
            <Button onClick={() => decide("approve")} pending={action.pending}>
              Approve
            </Button>
            <Button variant="secondary" onClick={() => decide("cancel")} disabled={action.pending}>
              Cancel
            </Button>
          </div>
        </>
      )}
    </Centered>
  );
}
