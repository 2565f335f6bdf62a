// The small "Live" mark in a page header: whether the page refreshes by itself (live.ts).
import type { LiveStatus } from "../live";
import "./live-dot.css";

const TEXT: Record<LiveStatus, string> = { connecting: "Connecting", live: "Live", reconnecting: "Reconnecting" };
const TITLE: Record<LiveStatus, string> = {
  connecting: "Connecting to the company's live events.",
  live: "This page updates as the company's agents and people work.",
  reconnecting: "The live connection dropped: retrying. Reload the page to see the latest.",
};

export function LiveDot({ status }: { status: LiveStatus }) {
  return (
    <span className={`live-state live-state-${status}`} role="status" title={TITLE[status]} data-testid="live-status">
      <span className="live-state-dot" aria-hidden />
      {TEXT[status]}
    </span>
  );
}
