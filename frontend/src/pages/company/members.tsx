// "/companies/:companyId/members": the people of a company on an authenticated server, and the
// invites that bring new ones. Owners see and change members; owners and admins invite. The
// server decides who may do what: a list it refuses shows its sentence instead.
import { useState, type FormEvent } from "react";
import { ApiError, get, patch, post } from "../../api";
import { Badge, Button, Card, Empty, ErrorNote, Field, Loading, Note, PageHeader, SecretValue, ConfirmAction, RowMessage } from "../../components/ui";
import { dateTime, relative } from "../../format";
import { useAction, useData } from "../../hooks";
import { useSession } from "../../session";
import { CompanyNotFound } from "./not-found";
import { orNotFound } from "./types";
import {
  MEMBER_ROLES,
  ROLE_MEANING,
  inviteTone,
  memberTone,
  type CreatedInvite,
  type Invite,
  type Member,
  type MemberRole,
  type MembershipStatus,
} from "./people-types";
import "./company.css";
import "./people.css";

export function Members({ params }: { params: Record<string, string> }) {
  const { authenticated } = useSession();
  if (!authenticated) {
    return (
      <>
        <PageHeader title="Members" />
        <Note>
          Members exist only on an authenticated server. This one runs in local_trusted mode: nobody signs in, and everyone
          on this machine is the board. Start it with <code>PAPERCLIP_DEPLOYMENT_MODE=authenticated</code> to invite people.
        </Note>
      </>
    );
  }
  return <People companyId={params.companyId} />;
}

/** The server's 403 sentence, for a list this person's role may not read. */
class Refused {
  readonly why: string;
  constructor(sentence: string) {
    this.why = /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
  }
}

async function orRefused<T>(load: Promise<T>): Promise<T | Refused> {
  try {
    return await load;
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) return new Refused(e.message);
    throw e;
  }
}

function People({ companyId }: { companyId: string }) {
  const members = useData(() => orNotFound(orRefused(get<Member[]>(`/companies/${companyId}/members`))), [companyId]);
  const invites = useData(() => orNotFound(orRefused(get<Invite[]>(`/companies/${companyId}/invites`))), [companyId]);
  const [inviting, setInviting] = useState(false);
  const [created, setCreated] = useState<CreatedInvite | null>(null);
  const [said, setSaid] = useState<string | null>(null);

  if (members.data === null || invites.data === null) return <CompanyNotFound />;
  const mayInvite = invites.data !== undefined && !(invites.data instanceof Refused);
  const replaceMember = (m: Member) => members.setData((prev) => (Array.isArray(prev) ? prev.map((x) => (x.id === m.id ? m : x)) : prev));
  const dropMember = (m: Member, reassigned: number) => {
    members.setData((prev) => (Array.isArray(prev) ? prev.filter((x) => x.id !== m.id) : prev));
    const issues = reassigned === 1 ? "1 open issue was" : `${reassigned} open issues were`;
    setSaid(`Removed ${m.user.name} from the company.${reassigned > 0 ? ` ${issues} unassigned.` : ""}`);
  };
  const replaceInvite = (i: Invite) => invites.setData((prev) => (Array.isArray(prev) ? prev.map((x) => (x.id === i.id ? i : x)) : prev));

  return (
    <>
      <PageHeader
        title="Members"
        subtitle="Owners manage members, admins invite, operators work, viewers read."
        actions={
          mayInvite ? (
            <Button variant={inviting ? "secondary" : "primary"} onClick={() => setInviting(!inviting)} aria-expanded={inviting}>
              {inviting ? "Close form" : "Invite someone"}
            </Button>
          ) : null
        }
      />
      {inviting ? (
        <NewInvite
          companyId={companyId}
          onCreated={(invite) => {
            setInviting(false);
            setCreated(invite);
            void invites.reload();
          }}
        />
      ) : null}
      {created ? <InviteLink invite={created} onDone={() => setCreated(null)} /> : null}
      {said ? <Note kind="success">{said}</Note> : null}

      <Card title="People">
        <ErrorNote error={members.error} />
        {members.data === undefined ? (
          members.error ? null : <Loading what="Loading members" />
        ) : members.data instanceof Refused ? (
          <Note>{members.data.why}</Note>
        ) : members.data.length === 0 ? (
          <Empty title="No members yet">Invite someone: they join with the role the invite names.</Empty>
        ) : (
          <table className="table" aria-label="Members">
            <thead>
              <tr>
                <th>Person</th>
                <th>Role</th>
                <th>Status</th>
                <th>Member since</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {members.data.map((m) => (
                <MemberRow key={m.id} member={m} companyId={companyId} onChanged={replaceMember} onRemoved={dropMember} />
              ))}
            </tbody>
          </table>
        )}
      </Card>

      <Card title="Invites">
        <ErrorNote error={invites.error} />
        {invites.data === undefined ? (
          invites.error ? null : <Loading what="Loading invites" />
        ) : invites.data instanceof Refused ? (
          <Note>{invites.data.why}</Note>
        ) : invites.data.length === 0 ? (
          <Empty title="No invites yet">“Invite someone” makes a link for one person, valid for 72 hours.</Empty>
        ) : (
          <table className="table" aria-label="Invites">
            <thead>
              <tr>
                <th>Role</th>
                <th>State</th>
                <th>Created</th>
                <th>Expires</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {invites.data.map((i) => (
                <InviteRow key={i.id} invite={i} onChanged={replaceInvite} />
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}

function MemberRow({
  member: m,
  companyId,
  onChanged,
  onRemoved,
}: {
  member: Member;
  companyId: string;
  onChanged: (m: Member) => void;
  onRemoved: (m: Member, reassigned: number) => void;
}) {
  const { session } = useSession();
  const action = useAction();
  const [confirming, setConfirming] = useState(false);
  const [said, setSaid] = useState<string | null>(null);
  // What the select shows while the server decides; cleared after, so a refusal snaps back.
  const [asked, setAsked] = useState<{ role?: MemberRole; status?: MembershipStatus }>({});
  const self = session?.user.id === m.principalId;
  const path = `/companies/${companyId}/members/${encodeURIComponent(m.id)}`;
  const name = m.user.name;

  const change = async (body: { membershipRole?: MemberRole; status?: MembershipStatus }, done: (m: Member) => string) => {
    setSaid(null);
    setAsked({ role: body.membershipRole, status: body.status });
    const changed = await action.run(() => patch<Member>(path, body));
    setAsked({});
    if (changed) {
      onChanged(changed);
      setSaid(done(changed));
    }
  };
  const remove = async () => {
    const done = await action.run(() => post<{ member: Member; reassignedIssueCount: number }>(`${path}/archive`, {}));
    if (done) onRemoved(m, done.reassignedIssueCount);
  };
  const statuses: MembershipStatus[] = m.status === "pending" ? ["pending", "active", "suspended"] : ["active", "suspended"];

  return (
    <>
      <tr className={m.status === "active" ? undefined : "dim"} data-member-id={m.id}>
        <td>
          <strong>{name}</strong>
          {self ? (
            <>
              {" "}
              <Badge tone="info">you</Badge>
            </>
          ) : null}
          {m.user.email ? <div className="muted cell-sub">{m.user.email}</div> : null}
        </td>
        {self ? (
          <>
            <td>{m.membershipRole}</td>
            <td>
              <Badge tone={memberTone(m.status)}>{m.status}</Badge>
            </td>
          </>
        ) : (
          <>
            <td>
              <select
                className="row-select"
                aria-label={`Role of ${name}`}
                value={asked.role ?? m.membershipRole}
                disabled={action.pending}
                onChange={(e) => change({ membershipRole: e.target.value as MemberRole }, (c) => `${name} is now ${c.membershipRole}.`)}
              >
                {MEMBER_ROLES.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            </td>
            <td>
              <select
                className="row-select"
                aria-label={`Status of ${name}`}
                value={asked.status ?? m.status}
                disabled={action.pending}
                onChange={(e) =>
                  change({ status: e.target.value as MembershipStatus }, (c) =>
                    c.status === "suspended" ? `${name} is suspended: their next request is refused.` : `${name} is ${c.status}.`,
                  )
                }
              >
                {statuses.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </td>
          </>
        )}
        <td className="muted nowrap" title={dateTime(m.createdAt)}>
          {relative(m.createdAt)}
        </td>
        <td>
          {self ? (
            <div className="row-actions">
              <span className="muted cell-sub nowrap">Another owner changes yours</span>
            </div>
          ) : (
            <div className="row-actions">
              <ConfirmAction
                confirming={confirming}
                setConfirming={setConfirming}
                onConfirm={remove}
                pending={action.pending}
                variant="danger"
                label="Remove"
                ariaLabel={`Remove ${name}`}
                confirmLabel="Remove now"
                confirmAriaLabel={`Remove ${name} now`}
              />
            </div>
          )}
        </td>
      </tr>
      {confirming ? (
        <RowMessage colSpan={5}>
          <Note kind="warning">{name} loses access to this company; their open issues become unassigned.</Note>
        </RowMessage>
      ) : null}
      {action.error || said ? (
        <RowMessage colSpan={5}>{action.error ? <ErrorNote error={`${name}: ${action.error}`} /> : <Note kind="success">{said}</Note>}</RowMessage>
      ) : null}
    </>
  );
}

function NewInvite({ companyId, onCreated }: { companyId: string; onCreated: (invite: CreatedInvite) => void }) {
  const [role, setRole] = useState<MemberRole>("operator");
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const invite = await action.run(() => post<CreatedInvite>(`/companies/${companyId}/invites`, { humanRole: role }));
    if (invite) onCreated(invite);
  };

  return (
    <Card title="Invite someone">
      <form onSubmit={submit} aria-label="Invite someone">
        <div className="form-row">
          <Field label="Role" htmlFor="invite-role" hint="The role the person joins with; an owner can change it later.">
            <select id="invite-role" value={role} onChange={(e) => setRole(e.target.value as MemberRole)}>
              {MEMBER_ROLES.map((r) => (
                <option key={r} value={r}>
                  {r} ({ROLE_MEANING[r]})
                </option>
              ))}
            </select>
          </Field>
        </div>
        <ErrorNote error={action.error} />
        <div className="form-actions">
          <Button type="submit" pending={action.pending}>
            Create invite
          </Button>
        </div>
      </form>
    </Card>
  );
}

/** The new invite's link: the only time anyone sees it (the server keeps a hash). */
function InviteLink({ invite, onDone }: { invite: CreatedInvite; onDone: () => void }) {
  return (
    <Card title={`Invite link for a new ${invite.humanRole ?? "member"}`}>
      <Note kind="warning">
        Copy this link now and send it to the person you invite: it is shown once, works for one person, and expires{" "}
        {relative(invite.expiresAt)} ({dateTime(invite.expiresAt)}).
      </Note>
      <SecretValue value={invite.inviteUrl} label="Invite link" />
      <div>
        <Button variant="secondary" onClick={onDone}>
          Done
        </Button>
      </div>
    </Card>
  );
}

function InviteRow({ invite: i, onChanged }: { invite: Invite; onChanged: (i: Invite) => void }) {
  const [confirming, setConfirming] = useState(false);
  const action = useAction();
  const revoke = async () => {
    const revoked = await action.run(() => post<Invite>(`/invites/${i.id}/revoke`));
    if (revoked) {
      setConfirming(false);
      onChanged(revoked);
    }
  };
  const ended = i.acceptedAt ?? i.revokedAt;

  return (
    <>
      <tr className={i.state === "active" ? undefined : "dim"} data-invite-id={i.id}>
        <td>{i.humanRole ?? "member"}</td>
        <td>
          <Badge tone={inviteTone(i.state)}>{i.state}</Badge>
        </td>
        <td className="muted nowrap" title={dateTime(i.createdAt)}>
          {relative(i.createdAt)}
        </td>
        <td className="muted nowrap" title={dateTime(i.expiresAt)}>
          {i.state === "active" ? relative(i.expiresAt) : ended ? `${i.state} ${relative(ended)}` : dateTime(i.expiresAt)}
        </td>
        <td>
          {i.state !== "active" ? null : (
            <div className="row-actions">
              <ConfirmAction
                confirming={confirming}
                setConfirming={setConfirming}
                onConfirm={revoke}
                pending={action.pending}
                label="Revoke"
                ariaLabel={`Revoke ${i.humanRole ?? "member"} invite`}
                confirmLabel="Revoke now"
              />
            </div>
          )}
        </td>
      </tr>
      {action.error ? (
        <RowMessage colSpan={5}>
          <ErrorNote error={action.error} />
        </RowMessage>
      ) : null}
    </>
  );
}
