// What the sign-in, account and invite pages say on a local_trusted server, where nobody signs
// in: every request on this machine is the board.
import { Centered } from "../../components/layout";
import { Note } from "../../components/ui";
import { Link } from "../../router";

export function LocalMode({ title, to = "/" }: { title: string; to?: string }) {
  return (
    <Centered>
      <h1>{title}</h1>
      <Note>This server runs in local_trusted mode: nobody signs in, and everyone on this machine is the board.</Note>
      <Link to={to}>Open the board</Link>
    </Centered>
  );
}
