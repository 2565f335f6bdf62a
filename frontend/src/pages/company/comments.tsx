// A thread of comments (on an issue, on an approval): oldest first, agents' set apart.
import { dateTime, relative } from "../../format";

interface Comment {
  id: string;
  authorAgentId: string | null;
  body: string;
  createdAt: string;
}

export function CommentList<C extends Comment>({ comments, author }: { comments: C[]; author: (c: C) => string }) {
  return (
    <ol className="plain-list comments" aria-label="Comments">
      {comments.map((c) => (
        <li key={c.id} className={c.authorAgentId ? "comment comment-agent" : "comment"}>
          <div className="comment-head">
            <strong>{author(c)}</strong>
            <time className="muted" dateTime={c.createdAt} title={dateTime(c.createdAt)}>
              {relative(c.createdAt)}
            </time>
          </div>
          <div className="prose">{c.body}</div>
        </li>
      ))}
    </ol>
  );
}
