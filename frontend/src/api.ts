// The one way the UI talks to the server: JSON over /api with the browser's session cookie.
// Every failure becomes an ApiError carrying the server's `{error, code, details}`.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Fired when a request was refused for want of credentials (see session.tsx). */
export const UNAUTHORIZED = "paperclip:unauthorized";

type Method = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";

export async function api<T>(method: Method, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`/api${path}`, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", "The server cannot be reached. Is `paperclip run` still running?");
  }
  const text = await response.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (response.status === 401 && !path.startsWith("/auth/")) {
    // The session may have ended (expired, signed out elsewhere): let the app check again.
    window.dispatchEvent(new Event(UNAUTHORIZED));
  }
  if (!response.ok) {
    const err = (data ?? {}) as { error?: unknown; code?: unknown; details?: unknown };
    const message =
      typeof err.error === "string" && err.error ? err.error : `${response.status} ${response.statusText}`;
    const code = typeof err.code === "string" ? err.code : `http_${response.status}`;
    throw new ApiError(response.status, code, message, err.details);
  }
  return data as T;
}

export const get = <T>(path: string) => api<T>("GET", path);
export const post = <T>(path: string, body: unknown = {}) => api<T>("POST", path, body);
export const patch = <T>(path: string, body: unknown) => api<T>("PATCH", path, body);
export const del = <T>(path: string) => api<T>("DELETE", path);

/** A query string from the defined entries of `params` ("" when none). */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
