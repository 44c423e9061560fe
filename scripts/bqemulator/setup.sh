#!/usr/bin/env bash
# Create the BigQuery emulator's own venv (.bqemu/) from the pinned, hashed requirements.txt and
# install DuckDB's spatial + avro extensions from their PyPI wheels into a private HOME
# (.bqemu/home): bqemulator loads spatial at start-up and would otherwise try to download it.
# Idempotent: does nothing when .bqemu/.ready is newer than requirements.txt.
#   scripts/bqemulator/setup.sh            # set up (used by `make bqemu`)
#   scripts/bqemulator/setup.sh --compile  # re-pin requirements.txt from requirements.in
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/scripts/bqemulator"
UV="${UV:-$ROOT/.tools/bin/uv}"
PYTHON="${PYTHON:-python3.11}"
VENV="${BQEMU_VENV:-$ROOT/.bqemu}"
export UV_PYTHON_DOWNLOADS=never

if [[ "${1:-}" == "--compile" ]]; then
    "$UV" pip compile "$HERE/requirements.in" --python-version 3.11 --generate-hashes --quiet -o "$HERE/requirements.txt"
    exit 0
fi
[[ -x "$UV" ]] || { echo "setup.sh: $UV not found; run 'make setup' first (it bootstraps the pinned uv)" >&2; exit 1; }
if [[ -f "$VENV/.ready" && "$VENV/.ready" -nt "$HERE/requirements.txt" ]]; then
    exit 0
fi
rm -rf "$VENV"
"$UV" venv "$VENV" --python "$PYTHON" --quiet
"$UV" pip install --python "$VENV/bin/python" --require-hashes -r "$HERE/requirements.txt" --quiet
mkdir -p "$VENV/home"
HOME="$VENV/home" "$VENV/bin/python" - <<'PY'
import glob
import site

import duckdb

for name in ("spatial", "avro"):
    found = glob.glob(f"{site.getsitepackages()[0]}/duckdb_extension_{name}/extensions/v*/{name}.duckdb_extension")
    if not found:
        raise SystemExit(f"setup.sh: the {name} extension file is missing from duckdb-extension-{name}")
    duckdb.install_extension(found[0])
con = duckdb.connect()
con.load_extension("spatial")
print("bqemulator venv ready: duckdb", duckdb.__version__, "with spatial + avro")
PY
touch "$VENV/.ready"
