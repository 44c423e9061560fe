"""A throwaway PostgreSQL server for the tests: initdb into a temp dir, ``pg_ctl start`` on a free
127.0.0.1 port (unix socket in the temp dir, trust auth on 127.0.0.1 only), a fresh database per test.

initdb and postgres refuse to run as root: as root they run as the ``postgres`` system user (created
by Debian's ``postgresql`` package) through ``runuser``, in a temp dir owned by that user.
Install the server with ``scripts/ensure_postgres.sh``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

ENSURE_HINT = "run scripts/ensure_postgres.sh (installs Debian's `postgresql` package) and retry"
SUPERUSER = "focusline"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be found or started; the message says what to do."""


def find_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb, else the directory of initdb on PATH."""

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", path.parent.parent.name)) or (0,)

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=version, reverse=True)
    for initdb in candidates:
        if os.access(initdb, os.X_OK):
            return initdb.parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="focusline-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.root, ignore_errors=True)
                raise PostgresUnavailable(
                    f"running as root and there is no `postgres` system user to run the server as; {ENSURE_HINT}"
                ) from None
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    @classmethod
    def start_new(cls) -> PostgresServer:
        bindir = find_bindir()
        if bindir is None:
            raise PostgresUnavailable(
                f"PostgreSQL server binaries not found (no initdb under /usr/lib/postgresql/*/bin or on PATH); "
                f"{ENSURE_HINT}"
            )
        server = cls(bindir)
        try:
            server.start()
        except BaseException:
            server.stop()
            raise
        return server

    def _run(self, *args: str) -> None:
        proc = subprocess.run(
            [*self.as_user, *args], cwd=self.root, capture_output=True, text=True, timeout=120, check=False
        )
        if proc.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise PostgresUnavailable(
                f"`{' '.join(args)}` failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}\n{log}"
            )

    def start(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "--username",
            SUPERUSER,
            "--auth",
            "trust",
            "--no-locale",
            "--encoding",
            "UTF8",
            "--no-sync",
        )
        # only the temp dir's unix socket and 127.0.0.1 can connect at all
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n", encoding="utf-8"
        )
        options = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self.root),
            "max_connections": "200",
            # a throwaway server: durability buys nothing here
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        for attempt in range(3):
            self.port = free_port()
            opts = " ".join(f"-c {k}={v}" for k, v in {**options, "port": str(self.port)}.items())
            try:
                self._run(
                    str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-o", opts, "start"
                )
                return
            except PostgresUnavailable:
                if attempt == 2:  # the free port may have been taken in between: try another
                    raise

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(PostgresUnavailable, subprocess.TimeoutExpired):
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'create database "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
