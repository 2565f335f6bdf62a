// Where to go after signing in: `?next=` when it is a page of this server, else the board.

export function nextPath(search: URLSearchParams): string {
  const next = search.get("next");
  if (!next) return "/";
  // Resolve it the way the browser will (which drops tabs and newlines, and reads "\" as "/"),
  // and keep it only when it stays on this origin: "//evil.example" and its disguises leave.
  try {
    const url = new URL(next, window.location.origin);
    if (url.origin !== window.location.origin) return "/";
    return url.pathname + url.search + url.hash;
  } catch {
    return "/";
  }
}

/** `/sign-in?next=<here>` for a page that needs a signed-in person. */
export function signInHere(page: "sign-in" | "sign-up" = "sign-in", extra: Record<string, string> = {}): string {
  const here = window.location.pathname + window.location.search;
  const q = new URLSearchParams({ next: here, ...extra });
  return `/${page}?${q}`;
}
