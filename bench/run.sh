#!/usr/bin/env bash
# Paperclip server benchmark: cold start, seeding, wrk throughput/latency, memory, size.
#
#   bench/run.sh [--bin PATH] [bench.py options...]
#
# Without --bin it builds the release binary (cargo build --release -p paperclip-server;
# a no-op when up to date) and benchmarks target/release/paperclip. Installs Debian's
# wrk when it is missing. Everything runs on 127.0.0.1 against a fresh temporary
# PAPERCLIP_HOME. See `python3 bench/bench.py --help` for the knobs (--issues,
# --agents, --duration, --warmup, --threads, --connections, --out DIR, --json FILE).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! command -v wrk >/dev/null 2>&1; then
    echo "[bench] installing wrk (apt-get)" >&2
    SUDO=""
    [[ $(id -u) -eq 0 ]] || SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq wrk >/dev/null
fi

have_bin=0
for arg in "$@"; do [[ "$arg" == "--bin" || "$arg" == --bin=* ]] && have_bin=1; done
EXTRA=()
if [[ $have_bin -eq 0 ]]; then
    echo "[bench] cargo build --release -p paperclip-server" >&2
    cargo build --release -p paperclip-server >&2
    EXTRA=(--bin "${CARGO_TARGET_DIR:-$ROOT/target}/release/paperclip")
fi

exec python3 "$ROOT/bench/bench.py" "${EXTRA[@]}" "$@"
