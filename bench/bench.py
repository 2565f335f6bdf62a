#!/usr/bin/env python3
"""Paperclip server benchmark driver (stdlib only). Run through bench/run.sh.

Steps:
  1. first boot on a fresh PAPERCLIP_HOME: time from spawn to the first 200 from /api/health
  2. seed one company with N agents and M issues through the API (threads, keep-alive)
  3. RSS idle after seeding; stop; restart on the same home: cold start with data
  4. wrk runs (warm-up, then measured) for the read, write and checkout paths
  5. RSS after load, binary size, and a table of figures
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "lua")


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------- server


class Postgres:
    """Fresh databases on the server of an admin URL (psql), dropped at the end."""

    def __init__(self, admin_url: str):
        self.admin_url, self.made = admin_url, []

    def fresh(self) -> str:
        name = f"paperclip_bench_{os.getpid()}_{len(self.made)}"
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.psql(f"CREATE DATABASE {name}")
        self.made.append(name)
        base, _, _ = self.admin_url.partition("?")
        return base.rsplit("/", 1)[0] + "/" + name

    def psql(self, sql: str) -> None:
        subprocess.run(["psql", self.admin_url, "-qc", sql], check=True, capture_output=True)

    def drop_all(self) -> None:
        for name in self.made:
            subprocess.run(["psql", self.admin_url, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
                           capture_output=True)


class Server:
    def __init__(self, binary: str, home: str, port: int, log_path: str, database_url: str | None = None,
                 extra_env: dict | None = None):
        self.binary, self.home, self.port, self.log_path = binary, home, port, log_path
        self.database_url = database_url
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> float:
        """Spawns the server; returns seconds from spawn to the first 200 on /api/health."""
        env = dict(os.environ, PAPERCLIP_HOME=self.home, **self.extra_env)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        logf = open(self.log_path, "ab")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [self.binary, "run", "--port", str(self.port)],
            env=env, stdout=logf, stderr=logf, stdin=subprocess.DEVNULL,
        )
        deadline = t0 + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log_path}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/api/health")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    return time.perf_counter() - t0
            except (ConnectionError, OSError, http.client.HTTPException):
                pass
            if time.perf_counter() > deadline:
                raise RuntimeError(f"server not healthy after {timeout}s")
            time.sleep(0.0005)

    def pin(self, cores: set) -> None:
        """Runs every thread of the server on these cores (threads made later inherit it)."""
        for tid in os.listdir(f"/proc/{self.proc.pid}/task"):
            os.sched_setaffinity(int(tid), cores)

    def rss_kib(self) -> tuple[int, int]:
        """(VmRSS, VmHWM) in KiB."""
        vals = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    vals[k] = int(v.split()[0])
        return vals.get("VmRSS", 0), vals.get("VmHWM", 0)

    def stop(self) -> float:
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        t0 = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return time.perf_counter() - t0


# ----------------------------------------------------------------------------- API client


class Api:
    """One keep-alive connection per thread."""

    def __init__(self, port: int):
        self.port = port
        self.local = threading.local()

    def _conn(self) -> http.client.HTTPConnection:
        c = getattr(self.local, "conn", None)
        if c is None:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.local.conn = c
        return c

    def call(self, method: str, path: str, body=None, token: str | None = None, expect=(200, 201)):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        data = None if body is None else json.dumps(body)
        for attempt in range(3):
            c = self._conn()
            try:
                c.request(method, path, body=data, headers=headers)
                r = c.getresponse()
                raw = r.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                c.close()
                self.local.conn = None
                if attempt == 2:
                    raise
        if r.status not in expect:
            raise RuntimeError(f"{method} {path} -> {r.status} {raw[:300]!r}")
        return json.loads(raw) if raw else None


def seed(api: Api, agents: int, issues: int, pool: int, workers: int) -> dict:
    t0 = time.perf_counter()
    company = api.call("POST", "/api/companies", {"name": "Bench Co"})
    cid = company["id"]

    def mk_agent(i):
        a = api.call("POST", f"/api/companies/{cid}/agents", {"name": f"Agent {i:03d}", "role": "engineer"})
        return a["id"]

    with ThreadPoolExecutor(workers) as ex:
        agent_ids = list(ex.map(mk_agent, range(agents)))
    t_agents = time.perf_counter() - t0

    def mk_issue(i):
        body = {"title": f"Bench issue {i}", "description": f"Seeded issue number {i} for the benchmark."}
        if i % 3 == 0:
            body["assigneeAgentId"] = agent_ids[i % agents]
        return api.call("POST", f"/api/companies/{cid}/issues", body)["id"]

    t1 = time.perf_counter()
    with ThreadPoolExecutor(workers) as ex:
        issue_ids = list(ex.map(mk_issue, range(issues), chunksize=64))
    t_issues = time.perf_counter() - t1

    # The checkout pool: one fresh, unassigned issue per agent, each agent with a key.
    n_pool = min(pool, agents)

    def mk_pool(i):
        token = api.call("POST", f"/api/agents/{agent_ids[i]}/keys", {})["token"]
        iid = api.call("POST", f"/api/companies/{cid}/issues", {"title": f"Checkout pool {i}"})["id"]
        # sanity: the pair works before wrk hammers it
        api.call("POST", f"/api/issues/{iid}/checkout",
                 {"agentId": agent_ids[i], "expectedStatuses": ["todo", "backlog"]}, token=token)
        api.call("POST", f"/api/issues/{iid}/release", token=token)
        return (iid, agent_ids[i], token)

    with ThreadPoolExecutor(workers) as ex:
        pool_rows = list(ex.map(mk_pool, range(n_pool)))
    return {
        "company": cid, "agents": agent_ids, "issues": issue_ids, "pool": pool_rows,
        "t_agents": t_agents, "t_issues": t_issues, "t_total": time.perf_counter() - t0,
    }


# ----------------------------------------------------------------------------- wrk

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def to_ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    return float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")


def parse_wrk(out: str) -> dict:
    res: dict = {"raw": out}
    m = re.search(r"Requests/sec:\s*([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else float("nan")
    m = re.search(r"(\d+) requests in ([\d.]+\w+)", out)
    res["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)", out, re.M)
    if m:
        res["avg"], res["stdev"], res["max"] = to_ms(m.group(1)), to_ms(m.group(2)), to_ms(m.group(3))
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s*{pct}(?:\.000)?%\s+(\S+)", out, re.M)
        res[f"p{pct}"] = to_ms(m.group(1)) if m else float("nan")
    m = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["sock_err"] = sum(int(x) for x in m.groups()) if m else 0
    return res


def wrk(base: str, path: str, script: str | None, script_args: list[str], threads: int, conns: int,
        duration: int, warmup: int, log_dir: str, name: str, headers: tuple[str, ...] = ()) -> dict:
    def cmd(d):
        c = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{d}s", "--latency", "--timeout", "10s"]
        for h in headers:
            c += ["-H", h]
        if script:
            c += ["-s", os.path.join(LUA, script)]
        c.append(base + path)
        if script_args:
            c += ["--", *script_args]
        return c

    if warmup > 0:
        subprocess.run(cmd(warmup), check=True, capture_output=True, text=True)
    p = subprocess.run(cmd(duration), check=True, capture_output=True, text=True)
    with open(os.path.join(log_dir, f"wrk-{name}.txt"), "w") as f:
        f.write(" ".join(cmd(duration)) + "\n\n" + p.stdout + p.stderr)
    return parse_wrk(p.stdout)


# ----------------------------------------------------------------------------- main


def wrk_split(servers, script: str, sargs: list, threads: int, conns: int, duration: int, warmup: int,
              out_dir: str, tag: str) -> dict:
    """The connections shared among the servers (one wrk each, at once); figures summed."""
    n = len(servers)
    safe = "".join(ch if ch.isalnum() else "_" for ch in tag)
    with ThreadPoolExecutor(n) as ex:
        futures = [ex.submit(wrk, f"http://127.0.0.1:{srv.port}", "/", script, sargs, max(1, threads // n),
                             conns // n, duration, warmup, out_dir, f"{safe}-{k}")
                   for k, srv in enumerate(servers)]
        rs = [f.result() for f in futures]
    return {
        "rps": sum(r["rps"] for r in rs), "conns": conns,
        "p50": max(r["p50"] for r in rs), "p90": max(r["p90"] for r in rs),
        "p99": max(r["p99"] for r in rs), "avg": max(r.get("avg", 0) for r in rs),
        "max": max(r.get("max", 0) for r in rs),
        "non2xx": sum(r["non2xx"] for r in rs), "sock_err": sum(r["sock_err"] for r in rs),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--agents", type=int, default=50)
    ap.add_argument("--issues", type=int, default=10_000)
    ap.add_argument("--pool", type=int, default=48, help="checkout pool: issues, each with its own agent")
    ap.add_argument("--seed-workers", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--out", help="keep logs and wrk outputs here (default: a temp dir, printed)")
    ap.add_argument("--json", help="also write the figures as JSON to this file")
    ap.add_argument("--start-trials", type=int, default=5,
                    help="cold starts measured for each case (median reported)")
    ap.add_argument("--keep-home", action="store_true")
    ap.add_argument("--postgres", metavar="ADMIN_URL",
                    help="run on PostgreSQL: fresh databases on this server (e.g. "
                         "postgres://postgres:postgres@127.0.0.1:5432/postgres), dropped afterwards")
    ap.add_argument("--replicas", action="store_true",
                    help="with --postgres: also run the read and create paths on two servers sharing "
                         "the database (one wrk per server, half the connections each) and sum them: "
                         "both on every core, then one server alone on one core against two on a "
                         "core each")
    a = ap.parse_args()
    pg = Postgres(a.postgres) if a.postgres else None

    if shutil.which("wrk") is None:
        log("wrk not found (apt-get install -y wrk)")
        return 2
    binary = os.path.abspath(a.bin)
    work = tempfile.mkdtemp(prefix="paperclip-bench.")
    out_dir = os.path.abspath(a.out) if a.out else os.path.join(work, "out")
    os.makedirs(out_dir, exist_ok=True)
    home = os.path.join(work, "home")
    os.makedirs(home)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = Server(binary, home, port, os.path.join(out_dir, "server.log"), pg.fresh() if pg else None)
    fig: dict = {"binary": binary, "binary_bytes": os.path.getsize(binary)}
    runs: dict = {}
    try:
        log(f"binary {binary} ({fig['binary_bytes'] / 2**20:.1f} MiB); home {home}; port {port}")
        fresh = [server.start() * 1e3]
        fig["rss_boot_fresh_kib"] = server.rss_kib()[0]
        for i in range(a.start_trials - 1):  # more first boots, each on its own fresh home
            h = os.path.join(work, f"fresh{i}")
            os.makedirs(h)
            extra = Server(binary, h, free_port(), os.path.join(out_dir, "server-fresh.log"),
                           pg.fresh() if pg else None)
            fresh.append(extra.start() * 1e3)
            extra.stop()
            shutil.rmtree(h, ignore_errors=True)
        fig["cold_start_fresh_ms"] = statistics.median(fresh)
        fig["cold_start_fresh_all_ms"] = fresh
        log("cold start (fresh home), ms: " + ", ".join(f"{x:.1f}" for x in fresh))

        api = Api(port)
        log(f"seeding {a.agents} agents and {a.issues} issues with {a.seed_workers} threads ...")
        s = seed(api, a.agents, a.issues, a.pool, a.seed_workers)
        fig["seed_issues_per_s"] = a.issues / s["t_issues"]
        fig["seed_total_s"] = s["t_total"]
        log(f"seeded in {s['t_total']:.1f} s ({fig['seed_issues_per_s']:.0f} issues/s)")
        time.sleep(2)
        fig["rss_idle_seeded_kib"], _ = server.rss_kib()
        fig["stop_s"] = server.stop()

        ids_file = os.path.join(work, "issue_ids.txt")
        with open(ids_file, "w") as f:
            f.write("\n".join(s["issues"]) + "\n")
        pool_file = os.path.join(work, "pool.txt")
        with open(pool_file, "w") as f:
            f.write("\n".join(" ".join(r) for r in s["pool"]) + "\n")
        db_bytes = 0
        for root, _, files in os.walk(home):
            db_bytes += sum(os.path.getsize(os.path.join(root, n)) for n in files)
        fig["home_bytes_seeded"] = db_bytes

        data = []
        for i in range(a.start_trials):  # restarts on the seeded home; the last one stays up
            data.append(server.start() * 1e3)
            if i < a.start_trials - 1:
                time.sleep(0.2)
                server.stop()
        fig["cold_start_data_ms"] = statistics.median(data)
        fig["cold_start_data_all_ms"] = data
        log("cold start (existing data), ms: " + ", ".join(f"{x:.1f}" for x in data))
        time.sleep(1)
        fig["rss_idle_restart_kib"], _ = server.rss_kib()

        cid = s["company"]
        t, c, d, w = a.threads, a.connections, a.duration, a.warmup
        plan = [
            ("GET /api/health", "/api/health", None, [], t, c),
            ("GET /api/issues/:id", "/", "get_issue.lua", [ids_file], t, c),
            ("GET /api/issues/:id (1 conn)", "/", "get_issue.lua", [ids_file], 1, 1),
            ("GET /api/companies/:id/issues?limit=50", "/", "list_issues.lua",
             [cid, str(max(0, a.issues - 50))], t, c),
            ("checkout+release (alternating)", "/", "checkout_release.lua", [pool_file, str(t)], t, c),
            ("POST /api/companies/:id/issues", "/", "create_issue.lua", [cid], t, c),
        ]
        if len(s["pool"]) <= c // t:
            log(f"warning: pool of {len(s['pool'])} is not larger than connections per thread")
        for i, (name, path, script, sargs, tt, cc) in enumerate(plan):
            log(f"wrk: {name} (-t{tt} -c{cc} -d{d}s, warm-up {w}s)")
            r = wrk(base, path, script, sargs, tt, cc, d, w, out_dir, f"{i}")
            r["threads"], r["conns"] = tt, cc
            runs[name] = r
            log(f"  {r['rps']:.0f} req/s, p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, "
                f"non-2xx {r['non2xx']}, socket errors {r['sock_err']}")
        time.sleep(1)
        fig["rss_after_load_kib"], fig["rss_peak_kib"] = server.rss_kib()
        if pg and a.replicas:
            h2 = os.path.join(work, "home2")
            os.makedirs(h2)
            second = Server(binary, h2, free_port(), os.path.join(out_dir, "server2.log"), server.database_url)
            second.start()
            replica_plan = [
                ("GET /api/issues/:id", "get_issue.lua", [ids_file]),
                ("GET /api/companies/:id/issues?limit=50", "list_issues.lua", [cid, str(max(0, a.issues - 50))]),
                ("POST /api/companies/:id/issues", "create_issue.lua", [cid]),
            ]
            try:
                # Both servers on both cores (what this machine gives them), then each on a
                # core of its own, against one alone on one core (as replicas on machines or
                # containers of their own would be, sharing one database).
                for label, servers, cores in [
                    ("2 replicas", (server, second), None),
                    ("1 replica on 1 core", (server,), [{0}]),
                    ("2 replicas, 1 core each", (server, second), [{0}, {1 % (os.cpu_count() or 1)}]),
                ]:
                    for k, srv in enumerate(servers):
                        srv.pin(cores[k] if cores else set(range(os.cpu_count() or 1)))
                    for name, script, sargs in replica_plan:
                        log(f"wrk on {label}: {name}")
                        runs[f"{label}: {name}"] = wrk_split(servers, script, sargs, t, c, d, w, out_dir,
                                                             f"{label}-{name}")
            finally:
                second.stop()
        server.stop()
    finally:
        server.stop()
        if pg:
            pg.drop_all()
        if not a.keep_home:
            shutil.rmtree(home, ignore_errors=True)

    # ------------------------------------------------------------------ report
    mib = lambda k: k / 1024
    print()
    print("Paperclip benchmark")
    print(f"  binary   : {binary}")
    print(f"  machine  : {os.cpu_count()} cores; wrk runs {a.duration}s after a {a.warmup}s warm-up")
    print(f"  database : {'PostgreSQL (' + a.postgres.rsplit('@', 1)[-1] + ')' if pg else 'SQLite'}")
    print(f"  data     : 1 company, {a.agents} agents, {a.issues} issues (+{len(s['pool'])} checkout-pool issues)")
    print(f"  outputs  : {out_dir}")
    print()
    hdr = f"{'workload':<66} {'conns':>5} {'req/s':>9} {'avg ms':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7}"
    print(hdr)
    print("-" * len(hdr))
    for name, r in runs.items():
        rps = r["rps"]
        label = name
        if name.startswith("checkout+release"):
            label = f"{name} ({rps / 2:.0f} pairs/s)"
        print(f"{label:<66} {r['conns']:>5} {rps:>9.0f} {r.get('avg', float('nan')):>8.2f} {r['p50']:>8.2f} "
              f"{r['p90']:>8.2f} {r['p99']:>8.2f} {r.get('max', float('nan')):>8.2f} {r['non2xx'] + r['sock_err']:>7}")
    print()
    print(f"{'figure':<52} {'value':>20}")
    print("-" * 73)
    rows = [
        (f"cold start to healthy, fresh home (median of {len(fig['cold_start_fresh_all_ms'])})",
         f"{fig['cold_start_fresh_ms']:.1f} ms"),
        ("  first boot / min / max", "/".join(f"{x:.1f}" for x in (fig['cold_start_fresh_all_ms'][0],
         min(fig['cold_start_fresh_all_ms']), max(fig['cold_start_fresh_all_ms']))) + " ms"),
        (f"cold start to healthy, seeded data (median of {len(fig['cold_start_data_all_ms'])})",
         f"{fig['cold_start_data_ms']:.1f} ms"),
        ("  min / max", "/".join(f"{x:.1f}" for x in (min(fig['cold_start_data_all_ms']),
         max(fig['cold_start_data_all_ms']))) + " ms"),
        (f"seeding (issues via API, {a.seed_workers} threads)", f"{fig['seed_issues_per_s']:.0f} issues/s"),
        ("seeding total", f"{fig['seed_total_s']:.1f} s"),
        ("data on disk after seeding", f"{fig['home_bytes_seeded'] / 2**20:.1f} MiB"),
        ("RSS just after first boot", f"{mib(fig['rss_boot_fresh_kib']):.1f} MiB"),
        ("RSS idle after seeding", f"{mib(fig['rss_idle_seeded_kib']):.1f} MiB"),
        ("RSS idle after restart (seeded data)", f"{mib(fig['rss_idle_restart_kib']):.1f} MiB"),
        ("RSS after the load runs", f"{mib(fig['rss_after_load_kib']):.1f} MiB"),
        ("RSS peak (VmHWM, restarted process)", f"{mib(fig['rss_peak_kib']):.1f} MiB"),
        ("graceful stop (SIGTERM to exit)", f"{fig['stop_s'] * 1e3:.0f} ms"),
        ("release binary size", f"{fig['binary_bytes'] / 2**20:.2f} MiB ({fig['binary_bytes']} B)"),
    ]
    for k, v in rows:
        print(f"{k:<52} {v:>20}")
    errors = sum(r["non2xx"] + r["sock_err"] for r in runs.values())
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"figures": fig, "runs": {k: {kk: vv for kk, vv in v.items() if kk != "raw"}
                                                  for k, v in runs.items()}}, f, indent=2)
    if errors:
        print(f"\nWARNING: {errors} non-2xx responses or socket errors; see {out_dir}/wrk-*.txt")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
