#!/usr/bin/env python3
"""How long `paperclip db copy` takes to move a whole instance between SQLite and PostgreSQL.

  python3 bench/db_copy.py --bin target/release/paperclip \\
      --postgres postgres://postgres:postgres@127.0.0.1:5432/postgres [--issues 50000]

Seeds a fresh SQLite instance through the API (each issue brings its activity entry, and a
third are assigned, which wakes their agents: 50,000 issues are about 180,000 rows), then
times, median of --trials:
  1. SQLite -> PostgreSQL (a fresh database each time),
  2. PostgreSQL -> a new SQLite file.
Prints the rows copied and the seconds and rows/s of each direction. Uses psql to make and
drop the databases; everything else is the binary under test.
"""

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Api, Postgres, Server, free_port, log, seed  # noqa: E402


def table_rows(path: str) -> dict:
    """Rows per table of the instance (migration bookkeeping aside)."""
    db = sqlite3.connect(path)
    try:
        names = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE '%migrations%'")]
        return {n: db.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        db.close()


def sqlite_rows(path: str) -> int:
    return sum(table_rows(path).values())


def timed_copy(binary: str, home: str, src: str, dst: str) -> float:
    env = dict(os.environ, PAPERCLIP_HOME=home)
    t0 = time.perf_counter()
    done = subprocess.run([binary, "db", "copy", "--from", src, "--to", dst],
                          env=env, capture_output=True, text=True)
    took = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"db copy {src} -> {dst} failed:\n{done.stdout}\n{done.stderr}")
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--postgres", metavar="ADMIN_URL", required=True,
                    help="a PostgreSQL server to make the target databases on")
    ap.add_argument("--issues", type=int, default=50_000)
    ap.add_argument("--seed-workers", type=int, default=8)
    ap.add_argument("--trials", type=int, default=3)
    a = ap.parse_args()

    binary = os.path.abspath(a.bin)
    work = tempfile.mkdtemp(prefix="paperclip-copy-bench.")
    home = os.path.join(work, "home")
    os.makedirs(home)
    pg = Postgres(a.postgres)
    try:
        port = free_port()
        server = Server(binary, home, port, os.path.join(work, "server.log"))
        server.start()
        log(f"seeding {a.issues} issues through the API ...")
        s = seed(Api(port), 20, a.issues, 0, a.seed_workers)
        log(f"seeded in {s['t_total']:.1f} s")
        server.stop()

        source = os.path.join(home, "instances", "default", "db", "paperclip.db")
        if not os.path.exists(source):
            raise RuntimeError(f"no SQLite database at {source}")
        rows = sqlite_rows(source)
        log(f"{rows} rows in the instance")

        to_pg, to_sqlite = [], []
        for i in range(a.trials):
            url = pg.fresh()
            to_pg.append(timed_copy(binary, home, source, url))
            back = os.path.join(work, f"back{i}.db")
            to_sqlite.append(timed_copy(binary, home, url, back))
            log(f"trial {i + 1}: SQLite -> PostgreSQL {to_pg[-1]:.2f} s, "
                f"PostgreSQL -> SQLite {to_sqlite[-1]:.2f} s")
            if sqlite_rows(back) != rows:
                raise RuntimeError("the copy back holds a different number of rows")

        print()
        biggest = sorted(table_rows(source).items(), key=lambda kv: -kv[1])[:4]
        print(f"rows copied: {rows} (" + ", ".join(f"{n} {c}" for n, c in biggest) + ", ...)")
        for name, runs in (("SQLite -> PostgreSQL", to_pg), ("PostgreSQL -> SQLite", to_sqlite)):
            med = statistics.median(runs)
            print(f"{name:22} median {med:6.2f} s  ({rows / med:,.0f} rows/s; "
                  f"runs {', '.join(f'{r:.2f}' for r in runs)})")
        return 0
    finally:
        pg.drop_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
