#!/usr/bin/env bash
# Property-based API test of the paperclip server with Schemathesis (v4 CLI).
#
#   tests/schemathesis.sh [BINARY]
#
# BINARY defaults to target/release/paperclip, else target/debug/paperclip.
# Starts the server on a free loopback port with a throw-away PAPERCLIP_HOME,
# seeds a company (agents, key, goal, project, issues, comment) so that path
# parameters can hit real rows, then runs Schemathesis against
# /api/openapi.json with the checks
#   not_a_server_error, response_schema_conformance
# and exits non-zero if any check failed (or the server died).
#
# Knobs (environment):
#   ST_MAX_EXAMPLES   test cases per operation and phase   (default 30)
#   ST_TIMEOUT        hard wall-clock cap for schemathesis  (default 270 s)
#   ST_WORKERS        concurrent schemathesis workers       (default 2)
#   ST_SEED           hypothesis seed (default: random; printed in the output)
#   ST_PHASES         schemathesis phases (default examples,coverage,fuzzing,stateful)
#   ST_MODE           positive | negative | all             (default all)
#   ST_REPORT_DIR     keep reports (junit + ndjson) and the server log here
#   ST_KEEP=1         keep the temporary directory
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MAX_EXAMPLES="${ST_MAX_EXAMPLES:-30}"
ST_TIMEOUT="${ST_TIMEOUT:-270}"
WORKERS="${ST_WORKERS:-2}"
PHASES="${ST_PHASES:-examples,coverage,fuzzing,stateful}"
MODE="${ST_MODE:-all}"

log() { printf '[schemathesis.sh] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- binary
BIN="${1:-}"
if [[ -z "$BIN" ]]; then
    if [[ -x "$ROOT/target/release/paperclip" ]]; then
        BIN="$ROOT/target/release/paperclip"
    elif [[ -x "$ROOT/target/debug/paperclip" ]]; then
        BIN="$ROOT/target/debug/paperclip"
    else
        log "no server binary: build one (cargo build -p paperclip-server) or pass its path"
        exit 2
    fi
fi
[[ -x "$BIN" ]] || { log "not executable: $BIN"; exit 2; }

# ---------------------------------------------------------------- schemathesis
PYTHON="${PYTHON:-python3}"
st_major() {
    command -v schemathesis >/dev/null 2>&1 || { echo 0; return; }
    schemathesis --version 2>/dev/null | sed -n 's/.*version \([0-9]*\)\..*/\1/p' | head -n1
}
if [[ "$(st_major)" != "4" ]]; then
    log "installing schemathesis 4.x from PyPI"
    "$PYTHON" -m pip install --quiet --disable-pip-version-check 'schemathesis>=4,<5'
    hash -r
fi
[[ "$(st_major)" == "4" ]] || { log "schemathesis 4.x not available on PATH"; exit 2; }
log "$(schemathesis --version)"

# ---------------------------------------------------------------- server
WORK="$(mktemp -d "${TMPDIR:-/tmp}/paperclip-st.XXXXXX")"
SERVER_PID=""
cleanup() {
    local rc=$?
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ -n "${ST_REPORT_DIR:-}" ]]; then
        mkdir -p "$ST_REPORT_DIR"
        cp -r "$WORK/report/." "$ST_REPORT_DIR/" 2>/dev/null || true
        cp "$WORK/server.log" "$WORK/schemathesis.out" "$ST_REPORT_DIR/" 2>/dev/null || true
    fi
    if [[ "${ST_KEEP:-0}" == "1" ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PORT="$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
BASE="http://127.0.0.1:$PORT"
mkdir -p "$WORK/home" "$WORK/report"
log "starting $BIN on $BASE (PAPERCLIP_HOME=$WORK/home)"
PAPERCLIP_HOME="$WORK/home" "$BIN" run --port "$PORT" >"$WORK/server.out" 2>"$WORK/server.log" &
SERVER_PID=$!

for i in $(seq 300); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        log "server exited during start-up:"; cat "$WORK/server.out" "$WORK/server.log" >&2; exit 2
    fi
    if "$PYTHON" - "$BASE" <<'EOF' 2>/dev/null; then break; fi
import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/api/health", timeout=1).read()
EOF
    sleep 0.1
    [[ $i -lt 300 ]] || { log "server not healthy after 30 s"; cat "$WORK/server.log" >&2; exit 2; }
done
log "server up (pid $SERVER_PID)"

# ---------------------------------------------------------------- seed + config
# Seeds real rows and writes a schemathesis.toml whose dictionaries make path and
# body ids hit them (with a probability, so random ids are still tried too).
# Destructive operations (delete/archive company, terminate agent, delete goal)
# get their own "victim" rows so they cannot wipe the rows other operations use.
"$PYTHON" - "$BASE" "$WORK/schemathesis.toml" <<'EOF'
import json, sys, urllib.request

base, out = sys.argv[1], sys.argv[2]

def call(method, path, body=None, token=None, ok=(200, 201)):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raise SystemExit(f"seed: {method} {path} -> {e.code} {e.read()[:300]!r}")

c = call("POST", "/api/companies", {"name": "Schemathesis Co"})
victim = call("POST", "/api/companies", {"name": "Victim Co"})
cid = c["id"]
ceo = call("POST", f"/api/companies/{cid}/agents", {"name": "Ceo", "role": "ceo"})
eng = call("POST", f"/api/companies/{cid}/agents", {"name": "Eng", "role": "engineer", "reportsTo": ceo["id"]})
doomed = call("POST", f"/api/companies/{cid}/agents", {"name": "Doomed", "role": "engineer"})
key = call("POST", f"/api/agents/{eng['id']}/keys", {"name": "st"})
goal = call("POST", f"/api/companies/{cid}/goals", {"title": "Ship it"})
goal2 = call("POST", f"/api/companies/{cid}/goals", {"title": "Doomed goal"})
proj = call("POST", f"/api/companies/{cid}/projects", {"name": "Core"})
parent = call("POST", f"/api/companies/{cid}/issues", {"title": "Parent issue"})
iss = call("POST", f"/api/companies/{cid}/issues",
           {"title": "Seeded issue", "assigneeAgentId": eng["id"], "parentId": parent["id"]})
todo = call("POST", f"/api/companies/{cid}/issues", {"title": "Todo issue", "status": "todo"})
call("POST", f"/api/issues/{todo['id']}/checkout",
     {"agentId": eng["id"], "expectedStatuses": ["todo", "backlog"]}, token=key["token"])
com = call("POST", f"/api/issues/{iss['id']}/comments", {"body": "hello"})

key_id = key.get("id") or (key.get("key") or {}).get("id")
ids = {
    "companies": [cid],
    "victim_companies": [victim["id"]],
    "agents": [ceo["id"], eng["id"]],
    "victim_agents": [doomed["id"]],
    "goals": [goal["id"]],
    "victim_goals": [goal2["id"]],
    "projects": [proj["id"]],
    "issues": [iss["id"], parent["id"], todo["id"]],
    "comments": [com["id"]],
    "keys": [key_id] if key_id else [],
}

def arr(v):
    return "[" + ", ".join(json.dumps(x) for x in v) + "]"

P = 0.7  # probability of using a seeded id instead of a generated one
lines = ["# generated by tests/schemathesis.sh", ""]
for name, vals in ids.items():
    if vals:
        lines.append(f"dictionaries.{name} = {{ values = {arr(vals)} }}")
lines += ["", "[parameters]"]
binds = {
    "path.companyId": "companies", "path.agentId": "agents", "path.goalId": "goals",
    "path.projectId": "projects", "path.issueId": "issues", "path.commentId": "comments",
    "path.keyId": "keys",
    "query.agentId": "agents", "query.assigneeAgentId": "agents", "query.projectId": "projects",
    "query.parentId": "issues", "query.afterCommentId": "comments", "query.wakeCommentId": "comments",
    "body.agentId": "agents", "body.assigneeAgentId": "agents", "body.goalId": "goals",
    "body.projectId": "projects", "body.parentId": "issues", "body.leadAgentId": "agents",
    "body.ownerAgentId": "agents", "body.reportsTo": "agents",
}
for k, d in binds.items():
    if ids.get(d):
        lines.append(f'"{k}" = {{ dictionary = "{d}", probability = {P} }}')

def op(method, path, param, dictionary):
    return ["", "[[operations]]", f'include-method = "{method}"', f'include-path = "{path}"',
            f'parameters = {{ "path.{param}" = {{ dictionary = "{dictionary}", probability = {P} }} }}']

lines += op("DELETE", "/api/companies/{companyId}", "companyId", "victim_companies")
lines += op("POST", "/api/companies/{companyId}/archive", "companyId", "victim_companies")
lines += op("POST", "/api/agents/{agentId}/terminate", "agentId", "victim_agents")
lines += op("DELETE", "/api/goals/{goalId}", "goalId", "victim_goals")
open(out, "w").write("\n".join(lines) + "\n")
print(json.dumps(ids))
EOF
log "seeded; config at $WORK/schemathesis.toml"

# ---------------------------------------------------------------- run
ST_ARGS=(
    --checks not_a_server_error,response_schema_conformance
    --max-examples "$MAX_EXAMPLES"
    --phases "$PHASES"
    --mode "$MODE"
    --workers "$WORKERS"
    --request-timeout 10
    --continue-on-failure
    --suppress-health-check all
    --report junit,ndjson
    --report-dir "$WORK/report"
)
[[ -n "${ST_SEED:-}" ]] && ST_ARGS+=(--seed "$ST_SEED")

log "schemathesis run $BASE/api/openapi.json ${ST_ARGS[*]}"
set +e
timeout --signal=INT --kill-after=20 "$ST_TIMEOUT" \
    schemathesis --config-file "$WORK/schemathesis.toml" run "$BASE/api/openapi.json" "${ST_ARGS[@]}" \
    2>&1 | tee "$WORK/schemathesis.out"
ST_RC=${PIPESTATUS[0]}
set -e

SERVER_ALIVE=yes
kill -0 "$SERVER_PID" 2>/dev/null || SERVER_ALIVE=no
PANICS="$(grep -ciE 'panick|ERROR' "$WORK/server.log" || true)"

echo
echo "================ schemathesis summary ================"
echo "binary         : $BIN"
echo "checks         : not_a_server_error, response_schema_conformance"
echo "max examples   : $MAX_EXAMPLES per operation/phase, mode $MODE, phases $PHASES"
echo "schemathesis rc: $ST_RC$([[ $ST_RC == 124 || $ST_RC == 130 ]] && echo ' (hit the time cap)')"
echo "server alive   : $SERVER_ALIVE"
echo "server ERROR/panic log lines: $PANICS"
if [[ "$PANICS" != "0" ]]; then
    grep -iE 'panick|ERROR' "$WORK/server.log" | sort | uniq -c | sort -rn | head -n 20
fi
echo "failing operations (check: count):"
awk '/^_{3,} .* _{3,}$/ { op=$0; gsub(/^_+ | _+$/, "", op) }
     /^- ST[0-9]+ / && op != "" { sub(/^- /, ""); n[op " :: " $0]++ }
     END { for (k in n) print "  " k }' "$WORK/schemathesis.out" | sort
echo "--- schemathesis's own summary ---"
awk '/= SUMMARY =/ { buf="" } { buf = buf $0 "\n" } END { printf "%s", buf }' "$WORK/schemathesis.out" \
    | sed -n '/= SUMMARY =/,$p'
echo "======================================================"

if [[ $ST_RC -ne 0 || $SERVER_ALIVE == no ]]; then
    echo "FAILED"
    exit 1
fi
echo "PASSED"
