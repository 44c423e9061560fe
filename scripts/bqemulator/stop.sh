#!/usr/bin/env bash
# Stop the bqemulator that start.sh started (by the pid it recorded; its own process group).
#   scripts/bqemulator/stop.sh [STATE_DIR]
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE_DIR="${1:-$ROOT/.focusline/bqemu}"
PID_FILE="$STATE_DIR/bqemu.pid"
[[ -f "$PID_FILE" ]] || exit 0
PID="$(cat "$PID_FILE")"
if kill -0 "$PID" 2>/dev/null; then
    kill -TERM -- "-$PID" 2>/dev/null || kill -TERM "$PID" 2>/dev/null
    for _ in $(seq 1 20); do kill -0 "$PID" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$PID" 2>/dev/null || true
fi
rm -f "$PID_FILE"
