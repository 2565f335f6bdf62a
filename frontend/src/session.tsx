// Who is looking at the board: the server's mode (from /api/health) and the signed-in person
// (from /api/auth/get-session). In local_trusted mode that person is the built-in board user.
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import { ApiError, UNAUTHORIZED, get, post } from "./api";
import type { Health, Session } from "./types";

interface SessionState {
  health: Health | null;
  session: Session | null;
  /** Set when the server could not be asked at all. */
  error: string | null;
  loading: boolean;
  authenticated: boolean;
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}

const Ctx = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [health, setHealth] = useState<Health | null>(null);
  const [session, setSession] = useState<Session | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);

  const refresh = useCallback(async () => {
    try {
      const h = await get<Health>("/health");
      setHealth(h);
      setError(null);
      try {
        setSession(await get<Session>("/auth/get-session"));
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) setSession(null);
        else throw e;
      }
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setLoading(false);
    }
  }, []);

  const signOut = useCallback(async () => {
    try {
      await post("/auth/sign-out");
    } finally {
      setSession(null);
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  // A 401 while signed in means the session ended: ask again, so the app sends the person to
  // sign in instead of showing "authentication required" on every page.
  const signedIn = useRef(false);
  signedIn.current = session !== null;
  useEffect(() => {
    const recheck = () => {
      if (signedIn.current) void refresh();
    };
    window.addEventListener(UNAUTHORIZED, recheck);
    return () => window.removeEventListener(UNAUTHORIZED, recheck);
  }, [refresh]);

  const authenticated = health?.deploymentMode === "authenticated";
  return (
    <Ctx.Provider value={{ health, session, error, loading, authenticated, refresh, signOut }}>
      {children}
    </Ctx.Provider>
  );
}

export function useSession(): SessionState {
  const s = useContext(Ctx);
  if (!s) throw new Error("useSession outside SessionProvider");
  return s;
}
