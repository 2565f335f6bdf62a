#!/usr/bin/env python3
"""What authentication costs a read: the same GET /api/issues/:id on a local_trusted server
(implicit board, no credentials) and on an authenticated one (session cookie, board API key,
agent API key, run token not yet: heartbeats mint those), measured with wrk on one connection
(latency: the difference of the means is the overhead) and on many (throughput).

    bench/run.sh is the usual entry; this one is run directly:
    python3 bench/auth_overhead.py --bin target/release/paperclip [--duration 10]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Api, Server, free_port, log, wrk  # noqa: E402

NO_LIMITS = {"PAPERCLIP_AUTH_RATE_LIMIT_ENABLED": "false"}


def request(port: int, method: str, path: str, body=None, headers=None):
    """One request; answers (status, headers, JSON body)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    h = {"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{port}"}
    h.update(headers or {})
    c.request(method, path, body=None if body is None else json.dumps(body), headers=h)
    r = c.getresponse()
    raw = r.read()
    c.close()
    if r.status >= 300:
        raise RuntimeError(f"{method} {path} -> {r.status} {raw[:300]!r}")
    return r.status, r.getheaders(), json.loads(raw) if raw else None


def seed(api: Api, token: str | None, issues: int) -> tuple[str, str, str]:
    """A company with an agent (and its key) and some issues; answers (issue id, agent key, company)."""
    cid = api.call("POST", "/api/companies", {"name": "Auth Bench"}, token=token)["id"]
    aid = api.call("POST", f"/api/companies/{cid}/agents", {"name": "Reader", "role": "engineer"}, token=token)["id"]
    key = api.call("POST", f"/api/agents/{aid}/keys", {"name": "bench"}, token=token)["token"]
    ids = [api.call("POST", f"/api/companies/{cid}/issues", {"title": f"Issue {i}"}, token=token)["id"]
           for i in range(issues)]
    return ids[len(ids) // 2], key, cid


def first_admin(port: int, log_path: str) -> tuple[str, str]:
    """Signs up through the printed bootstrap invite; answers (session cookie, board API key)."""
    deadline = time.time() + 10
    token = None
    while token is None and time.time() < deadline:
        with open(log_path, errors="replace") as f:
            m = re.search(r"/invite/(pcp_bootstrap_[0-9a-f]+)", f.read())
        token = m.group(1) if m else None
        time.sleep(0.05)
    if token is None:
        raise RuntimeError(f"no bootstrap invite in {log_path}")
    _, headers, _ = request(port, "POST", "/api/auth/sign-up/email",
                            {"email": "bench@example.com", "name": "Bench", "password": "bench password"})
    cookie = next(v.split(";")[0] for k, v in headers if k.lower() == "set-cookie" and "session_token=" in v)
    request(port, "POST", f"/api/invites/{token}/accept", {"requestType": "human"}, {"Cookie": cookie})
    _, _, key = request(port, "POST", "/api/board-api-keys", {"name": "bench"}, {"Cookie": cookie})
    return cookie, key["token"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3,
                    help="every caller is measured once per round, in turn; the median round counts")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--issues", type=int, default=200)
    args = ap.parse_args()
    out = tempfile.mkdtemp(prefix="paperclip-auth-bench-")
    log(f"logs in {out}")

    # Both servers run side by side, so the rounds can alternate between them.
    local_port, auth_port = free_port(), free_port()
    local = Server(args.bin, os.path.join(out, "local"), local_port, os.path.join(out, "local.log"),
                   extra_env=NO_LIMITS)
    auth_log = os.path.join(out, "auth.log")
    authd = Server(args.bin, os.path.join(out, "auth"), auth_port, auth_log,
                   extra_env=dict(NO_LIMITS, PAPERCLIP_DEPLOYMENT_MODE="authenticated"))
    local.start()
    authd.start()
    try:
        issue, agent_key, _ = seed(Api(local_port), None, args.issues)
        cookie, board_key = first_admin(auth_port, auth_log)
        auth_issue, auth_agent_key, _ = seed(Api(auth_port), board_key, args.issues)
        callers = [
            ("local_trusted, no credentials", local_port, issue, ()),
            ("local_trusted, agent key", local_port, issue, (f"Authorization: Bearer {agent_key}",)),
            ("authenticated, session cookie", auth_port, auth_issue, (f"Cookie: {cookie}",)),
            ("authenticated, board API key", auth_port, auth_issue, (f"Authorization: Bearer {board_key}",)),
            ("authenticated, agent key", auth_port, auth_issue, (f"Authorization: Bearer {auth_agent_key}",)),
        ]
        results: dict[str, list[tuple[float, float, float]]] = {c[0]: [] for c in callers}
        for round_ in range(args.rounds):
            for name, port, iid, headers in callers:
                base, path = f"http://127.0.0.1:{port}", f"/api/issues/{iid}"
                tag = f"{name.replace(' ', '').replace(',', '-')}-{round_}"
                one = wrk(base, path, None, [], 1, 1, args.duration, args.warmup, out, f"{tag}-c1", headers)
                many = wrk(base, path, None, [], 2, args.connections, args.duration, args.warmup, out,
                           f"{tag}-cN", headers)
                for r in (one, many):
                    if r["non2xx"] or r["sock_err"]:
                        raise RuntimeError(f"{name}: {r['non2xx']} non-2xx, {r['sock_err']} socket errors")
                results[name].append((one["avg"] * 1000, one["p50"] * 1000, many["rps"]))
                log(f"round {round_ + 1}: {name}: {one['avg'] * 1000:.1f} µs mean, {many['rps']:.0f} req/s")
    finally:
        local.stop()
        authd.stop()

    def median(values):
        return statistics.median(values)

    rows = [(name, median([r[0] for r in rs]), median([r[1] for r in rs]), median([r[2] for r in rs]))
            for name, rs in results.items()]
    baseline = rows[0][1]
    print(f"\nGET /api/issues/:id: wrk on 1 connection (latency) and {args.connections} (throughput), "
          f"{args.duration}s each, median of {args.rounds} alternating rounds\n")
    print("| caller | mean µs | p50 µs | mean over local_trusted µs | req/s |")
    print("|---|---:|---:|---:|---:|")
    for name, avg, p50, rps in rows:
        print(f"| {name} | {avg:.1f} | {p50:.1f} | {avg - baseline:+.1f} | {rps:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
