#!/usr/bin/env bash
# Start bqemulator (in-memory) on 127.0.0.1 in the background and wait until its REST API answers.
#   scripts/bqemulator/start.sh [PORT] [STATE_DIR]    (defaults 9050, .focusline/bqemu)
# Writes STATE_DIR/bqemu.pid and STATE_DIR/bqemu.log; stop it with scripts/bqemulator/stop.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${BQEMU_VENV:-$ROOT/.bqemu}"
PORT="${1:-9050}"
STATE_DIR="${2:-$ROOT/.focusline/bqemu}"
PROJECT="${FOCUSLINE_BQ_PROJECT:-focusline-local}"
if [[ ! -x "$VENV/bin/bqemulator" || ! -f "$VENV/.ready" ]]; then
    echo "start.sh: no emulator venv at $VENV; run scripts/bqemulator/setup.sh (or make bqemu-setup)" >&2
    exit 1
fi
mkdir -p "$STATE_DIR"
# a private HOME: DuckDB finds the spatial extension setup.sh installed there, and nothing is
# read from or written to the user's ~/.duckdb
HOME="$VENV/home" NO_GCE_CHECK=true setsid "$VENV/bin/python" "$ROOT/scripts/bqemulator/serve.py" start \
    --rest-host 127.0.0.1 --rest-port "$PORT" --grpc-host 127.0.0.1 --grpc-port 0 \
    --project "$PROJECT" --log-level warning >"$STATE_DIR/bqemu.log" 2>&1 &
echo $! >"$STATE_DIR/bqemu.pid"
for _ in $(seq 1 120); do
    if "$VENV/bin/python" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
        "http://127.0.0.1:$PORT/bigquery/v2/projects/$PROJECT/datasets" 2>/dev/null; then
        echo "bqemulator up on http://127.0.0.1:$PORT (project $PROJECT, pid $(cat "$STATE_DIR/bqemu.pid"))"
        exit 0
    fi
    if ! kill -0 "$(cat "$STATE_DIR/bqemu.pid")" 2>/dev/null; then
        echo "start.sh: bqemulator exited during start-up; log:" >&2
        tail -n 30 "$STATE_DIR/bqemu.log" >&2
        exit 1
    fi
    sleep 0.5
done
echo "start.sh: bqemulator did not answer on port $PORT within 60 s; log: $STATE_DIR/bqemu.log" >&2
exit 1
