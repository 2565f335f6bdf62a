// Where to go after signing in: `?next=` when it is a path on this server, else the board.

export function nextPath(search: URLSearchParams): string {
  const next = search.get("next");
  // Only a local path: "//evil.example" or "https://…" would leave this server.
  if (next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\")) return next;
  return "/";
}

/** `/sign-in?next=<here>` for a page that needs a signed-in person. */
export function signInHere(page: "sign-in" | "sign-up" = "sign-in", extra: Record<string, string> = {}): string {
  const here = window.location.pathname + window.location.search;
  const q = new URLSearchParams({ next: here, ...extra });
  return `/${page}?${q}`;
}
