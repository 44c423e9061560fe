#!/usr/bin/env bash
# Make sure a PostgreSQL server binary (initdb, pg_ctl, postgres) is installed, for the tests that
# start their own throwaway server. Installs Debian's `postgresql` package when none is found.
# Exits non-zero with a clear message when it cannot. Used by `make test` before pytest.
# POSTGRES_LIB_DIR (default /usr/lib/postgresql) is where <version>/bin/initdb is looked for.
set -euo pipefail

lib_dir=${POSTGRES_LIB_DIR:-/usr/lib/postgresql}

find_initdb() {
    local candidate
    for candidate in "$lib_dir"/*/bin/initdb; do
        if [[ -x "$candidate" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if initdb_path=$(find_initdb); then
    echo "ensure_postgres: found $initdb_path"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_postgres: no initdb under $lib_dir/*/bin and no apt-get to install it;" \
        "install the PostgreSQL server (Debian package 'postgresql') by hand" >&2
    exit 1
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "ensure_postgres: not root and no sudo; run as root: apt-get install -y --no-install-recommends postgresql" >&2
        exit 1
    fi
    sudo_cmd=(sudo)
fi

run() {
    echo "ensure_postgres: running: $*"
    "$@"
}

export DEBIAN_FRONTEND=noninteractive
if ! run "${sudo_cmd[@]}" apt-get install -y --no-install-recommends postgresql; then
    # the package lists may be missing or stale on a fresh image
    if ! run "${sudo_cmd[@]}" apt-get update; then
        echo "ensure_postgres: apt-get update failed; cannot install the Debian package 'postgresql'" >&2
        exit 1
    fi
    if ! run "${sudo_cmd[@]}" apt-get install -y --no-install-recommends postgresql; then
        echo "ensure_postgres: could not install the Debian package 'postgresql'" >&2
        exit 1
    fi
fi

if initdb_path=$(find_initdb); then
    echo "ensure_postgres: installed $initdb_path"
    exit 0
fi
echo "ensure_postgres: 'postgresql' is installed but no initdb was found under $lib_dir/*/bin" >&2
exit 1
