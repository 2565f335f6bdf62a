// A company's live events over its WebSocket (GET /api/companies/:id/events/ws): pages listen
// to refresh what they show when something changes elsewhere (an agent, the CLI, another tab).
// The socket is a bonus over the page's own loads: when it cannot connect the page still works,
// it just stops refreshing by itself until the socket is back.
import { useEffect, useRef, useState } from "react";

/** One message of the socket, as the server sends it (server/src/realtime/bus.rs). */
export interface LiveEvent {
  id: number;
  companyId: string;
  type: string;
  createdAt: string;
  payload: unknown;
}

/** What an `activity.logged` event carries (an activity entry), as far as pages read it. */
export interface LiveActivity {
  action: string;
  entityType: string;
  entityId: string;
}

/** Handed to `onEvent` after a reconnect: the replay covers what the server still holds, but a
 * restarted server starts its ids afresh, so pages reload what they show to be sure. */
export const RESYNC = "live.resync";

export type LiveStatus = "connecting" | "live" | "reconnecting";

/** The first wait after a drop, doubled each failed try up to the last. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;
/** How long a socket must stay open before a later drop starts the back-off afresh. */
const HELD_MS = 5_000;

/** Calls `onEvent` for each event of the company while the page is shown; returns whether the
 * socket is open. Reconnects after a drop with `?after=<last id>` (the server replays what it
 * missed) and closes when the page goes or the company changes. The latest `onEvent` is used,
 * so it need not be memoised. Events between a page's first load and the socket's opening are
 * not replayed (there is no id to ask from yet); that window is a few milliseconds. */
export function useLiveEvents(companyId: string | undefined, onEvent: (event: LiveEvent) => void): LiveStatus {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const [status, setStatus] = useState<LiveStatus>("connecting");

  useEffect(() => {
    if (!companyId) return;
    let socket: WebSocket | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let lastId: number | undefined;
    let failures = 0;
    let opened = false;
    let stopped = false;
    setStatus("connecting");

    const deliver = (event: LiveEvent) => {
      try {
        handler.current(event);
      } catch (e) {
        // A page's handler failing must not stop the feed for the next event.
        console.error(e);
      }
    };

    const retry = () => {
      if (stopped) return;
      setStatus("reconnecting");
      // Jittered, so many tabs do not knock on a restarted server at the same instant.
      const wait = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** failures) * (0.75 + Math.random() / 2);
      failures += 1;
      timer = setTimeout(connect, wait);
    };

    function connect() {
      if (stopped) return;
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      const after = lastId === undefined ? "" : `?after=${lastId}`;
      let ws: WebSocket;
      try {
        ws = new WebSocket(`${scheme}://${location.host}/api/companies/${encodeURIComponent(companyId!)}/events/ws${after}`);
      } catch {
        retry();
        return;
      }
      socket = ws;
      ws.onopen = () => {
        // Back-off is forgiven only once the socket has held a while: a proxy that accepts the
        // upgrade and hangs up at once must not make us knock every second.
        const held = setTimeout(() => {
          if (socket === ws) failures = 0;
        }, HELD_MS);
        ws.addEventListener("close", () => clearTimeout(held));
        setStatus("live");
        if (opened) deliver({ id: lastId ?? 0, companyId: companyId!, type: RESYNC, createdAt: new Date().toISOString(), payload: null });
        opened = true;
      };
      ws.onmessage = (message) => {
        let event: LiveEvent;
        try {
          event = JSON.parse(String(message.data)) as LiveEvent;
        } catch {
          return;
        }
        if (!event || typeof event.type !== "string") return;
        if (typeof event.id === "number") lastId = event.id;
        deliver(event);
      };
      // An error is always followed by a close, which decides what happens next.
      ws.onclose = () => {
        if (socket !== ws) return;
        socket = null;
        retry();
      };
    }

    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      const ws = socket;
      socket = null;
      if (!ws) return;
      ws.onmessage = null;
      ws.onclose = null;
      // Closing a socket still connecting makes the browser log an error: close it once open.
      if (ws.readyState === WebSocket.CONNECTING) ws.onopen = () => ws.close();
      else ws.close();
    };
  }, [companyId]);

  return status;
}

/** The activity entry an event carries, or null for other events. */
export function activityOf(event: LiveEvent): LiveActivity | null {
  if (event.type !== "activity.logged" || !event.payload || typeof event.payload !== "object") return null;
  return event.payload as LiveActivity;
}

/** `fn`, run once `ms` after the last of a burst of calls: one reload for many events. A
 * burst that never pauses (a busy company) still runs it every `maxWait` ms. */
export function useDebounced(fn: () => void, ms = 300, maxWait = 2_000): () => void {
  const latest = useRef(fn);
  latest.current = fn;
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const firstCall = useRef<number | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const call = useRef(() => {
    const now = Date.now();
    firstCall.current ??= now;
    clearTimeout(timer.current);
    const wait = Math.max(0, Math.min(ms, firstCall.current + maxWait - now));
    timer.current = setTimeout(() => {
      firstCall.current = undefined;
      latest.current();
    }, wait);
  });
  return call.current;
}

/** The usual use of the two above: reload (debounced) when an event `matters`, and after a
 * reconnect. `companyId` undefined (a company not found) opens no socket. */
export function useLiveReload(companyId: string | undefined, matters: (event: LiveEvent) => boolean, reload: () => void): LiveStatus {
  const refresh = useDebounced(reload);
  return useLiveEvents(companyId, (event) => {
    if (event.type === RESYNC || matters(event)) refresh();
  });
}
