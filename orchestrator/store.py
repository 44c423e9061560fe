"""Control store: organisations, plans, quota, pipeline runs, step runs, transitions, credentials.

``ControlStore`` is the interface. ``SqlControlStore`` holds every statement and all the logic once,
with a few dialect hooks (paramstyle, column types, ``max`` vs ``greatest``, row locks, how a write
transaction is opened); ``SqliteControlStore`` is the embedded default (stdlib sqlite3, WAL,
``BEGIN IMMEDIATE`` for writes) and ``orchestrator.store_postgres.PostgresControlStore`` the
production one (psycopg 3, READ COMMITTED), chosen by ``FOCUSLINE_CONTROL_URL``.

Statements are written once in SQLite's paramstyle (``?`` positional, ``:name`` named); the
PostgreSQL store rewrites them for psycopg as they are executed. Timestamps are ISO-8601 'Z' strings on every
backend, so rows come back identical whichever store wrote them.

Quota check-and-reserve is ONE conditional UPDATE of the organisation's counter row: it only
matches while the subscription may run and every limit has room, so concurrent callers can never
over-book. Reservations held by runs that died are reclaimed first, in the same transaction, after
the counter row is locked (``_lock_org``; a no-op on SQLite, whose writers are already serialised).
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import os
import socket
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import yaml

from focusline.errors import ConfigError, QuotaExceededError, UsageError
from focusline.tenancy import validate_org_slug

RUNNABLE_STATUSES = ("ACTIVE", "TRIAL")
SUBSCRIPTION_STATUSES = ("ACTIVE", "TRIAL", "PAST_DUE", "SUSPENDED", "CANCELLED")
RUN_TRANSITIONS: dict[str | None, tuple[str, ...]] = {
    None: ("pending",),
    "pending": ("validating", "failed", "cancelled"),
    "validating": ("running", "failed", "cancelled"),
    "running": ("completed", "failed", "cancelled"),
}
FINAL_STATUSES = ("completed", "failed", "cancelled")
STEP_STATUSES = ("pending", "running", "completed", "failed", "skipped", "retrying")
# a reservation older than the pipeline timeout plus this grace is reclaimed
RECLAIM_GRACE = dt.timedelta(minutes=5)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Plan:
    plan_id: str
    daily_limit: int
    monthly_limit: int
    concurrent_limit: int


@dataclass(frozen=True)
class ProcessIdentity:
    """Who holds a reservation: used to tell a live run from a dead one."""

    host: str
    pid: int
    started_at: float  # process create time, guards against pid reuse

    @classmethod
    def current(cls) -> ProcessIdentity:
        return cls(socket.gethostname(), os.getpid(), psutil.Process().create_time())

    def is_dead(self) -> bool:
        """True only when we can tell: same host and the process is gone (or the pid was reused)."""
        if self.host != socket.gethostname():
            return False
        try:
            return abs(psutil.Process(self.pid).create_time() - self.started_at) > 1.0
        except psutil.NoSuchProcess:
            return True
        except psutil.Error:
            return False


@dataclass(frozen=True)
class StoredCredential:
    org_slug: str
    provider: str
    credential_id: str
    key_ref: str  # which key wraps the data key (local key file id or KMS key version)
    wrapped_key: bytes
    nonce: bytes
    ciphertext: bytes
    updated_at: str


def load_plans(path: Path) -> tuple[list[Plan], str]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        plans = [Plan(**p) for p in raw["plans"]]
        default = str(raw["default_plan"])
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise ConfigError(f"invalid plans file: {exc}", file=str(path)) from None
    if default not in {p.plan_id for p in plans}:
        raise ConfigError(f"default_plan {default!r} is not a plan", file=str(path), field="default_plan")
    return plans, default


class ControlStore(abc.ABC):
    """Everything the orchestrator records. Methods return plain dicts for the CLI's --json."""

    default_plan: str = "starter"
    url: str  # what FOCUSLINE_CONTROL_URL would say to open this store (may hold a password: never log it)

    # organisations and plans
    @abc.abstractmethod
    def upsert_plan(self, plan: Plan) -> None: ...
    @abc.abstractmethod
    def get_plan(self, plan_id: str) -> Plan | None: ...
    @abc.abstractmethod
    def create_org(self, org_slug: str, plan_id: str | None = None, status: str = "ACTIVE") -> dict[str, Any]: ...
    @abc.abstractmethod
    def get_org(self, org_slug: str) -> dict[str, Any]: ...
    @abc.abstractmethod
    def list_orgs(self) -> list[dict[str, Any]]: ...
    @abc.abstractmethod
    def set_plan(self, org_slug: str, plan_id: str) -> dict[str, Any]: ...
    @abc.abstractmethod
    def set_subscription_status(self, org_slug: str, status: str) -> dict[str, Any]: ...

    # runs and quota
    @abc.abstractmethod
    def reserve_run(
        self,
        org_slug: str,
        *,
        pipeline_id: str,
        pipeline_name: str,
        start_date: dt.date,
        end_date: dt.date,
        target: str,
        timeout_minutes: int,
        holder: ProcessIdentity,
    ) -> str: ...
    @abc.abstractmethod
    def transition(self, run_id: str, to_status: str, detail: str | None = None) -> None: ...
    @abc.abstractmethod
    def finish_run(self, run_id: str, status: str, error: str | None = None) -> None: ...
    @abc.abstractmethod
    def reclaim_dead_reservations(self, org_slug: str) -> list[str]: ...
    @abc.abstractmethod
    def get_run(self, org_slug: str, run_id: str) -> dict[str, Any]: ...
    @abc.abstractmethod
    def list_runs(self, org_slug: str, pipeline: str | None = None, limit: int = 20) -> list[dict[str, Any]]: ...
    @abc.abstractmethod
    def quota_usage(self, org_slug: str) -> dict[str, Any]: ...

    # steps
    @abc.abstractmethod
    def start_step_attempt(self, run_id: str, step_id: str, ps_type: str, attempt: int) -> int: ...
    @abc.abstractmethod
    def finish_step_attempt(
        self, step_run_id: int, status: str, rows: int | None = None, error: str | None = None
    ) -> None: ...
    @abc.abstractmethod
    def record_step_skipped(self, run_id: str, step_id: str, ps_type: str, reason: str) -> None: ...
    @abc.abstractmethod
    def list_steps(self, run_id: str) -> list[dict[str, Any]]: ...
    @abc.abstractmethod
    def list_transitions(self, run_id: str) -> list[dict[str, Any]]: ...

    # credentials (ciphertext only; encryption lives in orchestrator/credentials.py)
    @abc.abstractmethod
    def put_credential(self, credential: StoredCredential) -> None: ...
    @abc.abstractmethod
    def get_credential(self, org_slug: str, provider: str, credential_id: str | None) -> StoredCredential: ...
    @abc.abstractmethod
    def list_credentials(self, org_slug: str) -> list[dict[str, Any]]: ...
    @abc.abstractmethod
    def list_stored_credentials(self, org_slug: str | None = None) -> list[StoredCredential]: ...
    @abc.abstractmethod
    def rewrap_credential(self, stored: StoredCredential, *, key_ref: str, wrapped_key: bytes) -> bool: ...


# Dialect placeholders: {identity} (autoincrement key), {blob}, {float} (must hold a process start time
# to the microsecond: double precision on PostgreSQL, whose `real` is 4 bytes).
_SCHEMA = """
create table if not exists plans (
    plan_id text primary key,
    daily_limit integer not null,
    monthly_limit integer not null,
    concurrent_limit integer not null
);
create table if not exists orgs (
    org_slug text primary key,
    plan_id text not null references plans (plan_id),
    subscription_status text not null,
    created_at text not null,
    quota_day text not null default '',
    runs_today integer not null default 0,
    quota_month text not null default '',
    runs_month integer not null default 0,
    concurrent_running integer not null default 0
);
create table if not exists quota_daily (
    org_slug text not null references orgs (org_slug),
    usage_date text not null,
    runs_started integer not null default 0,
    runs_succeeded integer not null default 0,
    runs_failed integer not null default 0,
    primary key (org_slug, usage_date)
);
create table if not exists pipeline_runs (
    run_id text primary key,
    org_slug text not null references orgs (org_slug),
    pipeline_id text not null,
    pipeline_name text not null,
    status text not null,
    start_date text not null,
    end_date text not null,
    target text not null,
    created_at text not null,
    started_at text,
    finished_at text,
    error text,
    holds_slot integer not null default 0,
    holder_host text,
    holder_pid integer,
    holder_started_at {float},
    expires_at text not null
);
create index if not exists pipeline_runs_org on pipeline_runs (org_slug, created_at);
create table if not exists step_runs (
    step_run_id {identity},
    run_id text not null references pipeline_runs (run_id),
    step_id text not null,
    ps_type text not null,
    attempt integer not null,
    status text not null,
    rows_written integer,
    error text,
    started_at text,
    finished_at text
);
create index if not exists step_runs_run on step_runs (run_id);
create table if not exists run_transitions (
    transition_id {identity},
    run_id text not null references pipeline_runs (run_id),
    from_status text,
    to_status text not null,
    at text not null,
    detail text
);
create index if not exists run_transitions_run on run_transitions (run_id);
create table if not exists credentials (
    org_slug text not null references orgs (org_slug),
    credential_id text not null,
    provider text not null,
    key_ref text not null,
    wrapped_key {blob} not null,
    nonce {blob} not null,
    ciphertext {blob} not null,
    created_at text not null,
    updated_at text not null,
    primary key (org_slug, credential_id)
);
"""

# The single check-and-reserve statement: counters roll over by UTC day and month inside it.
_RESERVE = """
update orgs set
    runs_today = (case when quota_day = :day then runs_today else 0 end) + 1,
    quota_day = :day,
    runs_month = (case when quota_month = :month then runs_month else 0 end) + 1,
    quota_month = :month,
    concurrent_running = concurrent_running + 1
where org_slug = :org
  and subscription_status in ('ACTIVE', 'TRIAL')
  and concurrent_running < (select p.concurrent_limit from plans p where p.plan_id = orgs.plan_id)
  and (case when quota_day = :day then runs_today else 0 end)
      < (select p.daily_limit from plans p where p.plan_id = orgs.plan_id)
  and (case when quota_month = :month then runs_month else 0 end)
      < (select p.monthly_limit from plans p where p.plan_id = orgs.plan_id)
returning runs_today
"""


class SqlControlStore(ControlStore):
    """Every statement and rule of the control store, once. Subclasses supply the dialect hooks:

    * ``_tx``/``_read``: a connection whose ``execute(sql, params)`` takes statements in SQLite's
      paramstyle and returns a cursor; rows support ``row["column"]`` and ``dict(row)``;
    * ``_create_schema``: idempotent DDL, safe when several processes run it at once;
    * ``_schema_types``: the ``{identity}``, ``{blob}`` and ``{float}`` column types;
    * ``_greatest``: the two-argument maximum (``max`` on SQLite, ``greatest`` on PostgreSQL);
    * ``_row_lock``: suffix that locks selected rows until commit ("" when writers are serialised);
    * ``_integrity_errors``: what a duplicate key raises.
    """

    url: str
    _greatest: str = "max"
    _row_lock: str = ""
    _schema_types: dict[str, str] = {}
    _integrity_errors: tuple[type[BaseException], ...] = ()

    def _init_store(self, plans_file: Path | None) -> None:
        self._create_schema()
        if plans_file is not None:
            plans, self.default_plan = load_plans(plans_file)
            for plan in plans:
                self.upsert_plan(plan)

    # -- dialect hooks ---------------------------------------------------------------------------
    @classmethod
    def _schema(cls) -> str:
        return _SCHEMA.format(**cls._schema_types)

    @abc.abstractmethod
    def _create_schema(self) -> None:
        """Create every table and index if missing; safe when several processes do it at once."""

    @abc.abstractmethod
    def _tx(self) -> contextlib.AbstractContextManager[Any]:
        """A write transaction: committed when the block ends, rolled back when it raises."""

    @abc.abstractmethod
    def _read(self) -> contextlib.AbstractContextManager[Any]:
        """A connection for reads (each statement sees the latest committed data)."""

    # -- shared helpers --------------------------------------------------------------------------
    def _lock_org(self, conn: Any, org_slug: str) -> None:
        """Lock the organisation's counter row until commit, before anything reads the slots it holds.

        Lock order is always organisation row, then run row: reclaim, finish and reserve cannot deadlock.
        """
        if self._row_lock:
            conn.execute(f"select org_slug from orgs where org_slug = ?{self._row_lock}", (org_slug,))

    # -- organisations and plans -----------------------------------------------------------------
    def upsert_plan(self, plan: Plan) -> None:
        with self._tx() as conn:
            conn.execute(
                "insert into plans (plan_id, daily_limit, monthly_limit, concurrent_limit) values (?, ?, ?, ?) "
                "on conflict (plan_id) do update set daily_limit = excluded.daily_limit, "
                "monthly_limit = excluded.monthly_limit, concurrent_limit = excluded.concurrent_limit",
                (plan.plan_id, plan.daily_limit, plan.monthly_limit, plan.concurrent_limit),
            )

    def get_plan(self, plan_id: str) -> Plan | None:
        with self._read() as conn:
            row = conn.execute("select * from plans where plan_id = ?", (plan_id,)).fetchone()
        return Plan(**dict(row)) if row else None

    def _require_plan(self, plan_id: str) -> Plan:
        plan = self.get_plan(plan_id)
        if plan is None:
            with self._read() as conn:
                known = [r["plan_id"] for r in conn.execute("select plan_id from plans order by plan_id")]
            raise UsageError(f"unknown plan {plan_id!r} (plans: {', '.join(known)})")
        return plan

    def create_org(self, org_slug: str, plan_id: str | None = None, status: str = "ACTIVE") -> dict[str, Any]:
        validate_org_slug(org_slug)
        plan = self._require_plan(plan_id or self.default_plan)
        if status not in SUBSCRIPTION_STATUSES:
            raise UsageError(f"unknown subscription status {status!r} (one of {', '.join(SUBSCRIPTION_STATUSES)})")
        with self._tx() as conn:
            try:
                conn.execute(
                    "insert into orgs (org_slug, plan_id, subscription_status, created_at) values (?, ?, ?, ?)",
                    (org_slug, plan.plan_id, status, iso(utcnow())),
                )
            except self._integrity_errors:
                raise UsageError(f"organisation {org_slug!r} already exists") from None
        return self.get_org(org_slug)

    def get_org(self, org_slug: str) -> dict[str, Any]:
        validate_org_slug(org_slug)
        with self._read() as conn:
            row = conn.execute(
                "select o.org_slug, o.plan_id, o.subscription_status, o.created_at, p.daily_limit, "
                "p.monthly_limit, p.concurrent_limit from orgs o join plans p using (plan_id) "
                "where o.org_slug = ?",
                (org_slug,),
            ).fetchone()
        if row is None:
            raise UsageError(f"unknown organisation {org_slug!r}; create it with `run.py orgs create {org_slug}`")
        return dict(row)

    def list_orgs(self) -> list[dict[str, Any]]:
        with self._read() as conn:
            rows = conn.execute(
                "select o.org_slug, o.plan_id, o.subscription_status, o.created_at from orgs o order by o.org_slug"
            ).fetchall()
        return [dict(r) for r in rows]

    def set_plan(self, org_slug: str, plan_id: str) -> dict[str, Any]:
        self.get_org(org_slug)
        self._require_plan(plan_id)
        with self._tx() as conn:
            conn.execute("update orgs set plan_id = ? where org_slug = ?", (plan_id, org_slug))
        return self.get_org(org_slug)

    def set_subscription_status(self, org_slug: str, status: str) -> dict[str, Any]:
        self.get_org(org_slug)
        if status not in SUBSCRIPTION_STATUSES:
            raise UsageError(f"unknown subscription status {status!r} (one of {', '.join(SUBSCRIPTION_STATUSES)})")
        with self._tx() as conn:
            conn.execute("update orgs set subscription_status = ? where org_slug = ?", (status, org_slug))
        return self.get_org(org_slug)

    # -- runs and quota --------------------------------------------------------------------------
    def _reclaim(self, conn: Any, org_slug: str, now: dt.datetime) -> list[str]:
        held = conn.execute(
            "select run_id, status, holder_host, holder_pid, holder_started_at, expires_at "
            "from pipeline_runs where org_slug = ? and holds_slot = 1",
            (org_slug,),
        ).fetchall()
        reclaimed = []
        for row in held:
            holder = ProcessIdentity(row["holder_host"], row["holder_pid"], row["holder_started_at"])
            expired = row["expires_at"] < iso(now)
            if not (expired or holder.is_dead()):
                continue
            reason = "reservation expired" if expired else f"process {holder.pid} on {holder.host} is gone"
            self._finish(conn, row["run_id"], "failed", f"reclaimed: {reason}", now)
            reclaimed.append(row["run_id"])
        return reclaimed

    def reclaim_dead_reservations(self, org_slug: str) -> list[str]:
        with self._tx() as conn:
            self._lock_org(conn, org_slug)
            return self._reclaim(conn, org_slug, utcnow())

    def reserve_run(
        self,
        org_slug: str,
        *,
        pipeline_id: str,
        pipeline_name: str,
        start_date: dt.date,
        end_date: dt.date,
        target: str,
        timeout_minutes: int,
        holder: ProcessIdentity,
    ) -> str:
        org = self.get_org(org_slug)
        now = utcnow()
        refusal: str | None = None
        with self._tx() as conn:
            self._lock_org(conn, org_slug)
            self._reclaim(conn, org_slug, now)
            reserved = conn.execute(
                _RESERVE, {"org": org_slug, "day": now.date().isoformat(), "month": now.strftime("%Y-%m")}
            ).fetchone()
            if reserved is None:
                refusal = self._refusal(conn, org_slug, now)
            else:
                run_id = str(uuid.uuid4())
                expires = now + dt.timedelta(minutes=timeout_minutes) + RECLAIM_GRACE
                conn.execute(
                    "insert into pipeline_runs (run_id, org_slug, pipeline_id, pipeline_name, status, start_date, "
                    "end_date, target, created_at, holds_slot, holder_host, holder_pid, holder_started_at, "
                    "expires_at) values (?, ?, ?, ?, 'pending', ?, ?, ?, ?, 1, ?, ?, ?, ?)",
                    (
                        run_id,
                        org_slug,
                        pipeline_id,
                        pipeline_name,
                        start_date.isoformat(),
                        end_date.isoformat(),
                        target,
                        iso(now),
                        holder.host,
                        holder.pid,
                        holder.started_at,
                        iso(expires),
                    ),
                )
                self._add_transition(conn, run_id, None, "pending", now, None)
                self._count(conn, org_slug, now, "runs_started")
        if refusal is not None:
            raise QuotaExceededError(refusal, org=org_slug, plan=org["plan_id"])
        return run_id

    def _refusal(self, conn: Any, org_slug: str, now: dt.datetime) -> str:
        row = conn.execute(
            "select o.*, p.daily_limit, p.monthly_limit, p.concurrent_limit "
            "from orgs o join plans p using (plan_id) where o.org_slug = ?",
            (org_slug,),
        ).fetchone()
        if row["subscription_status"] not in RUNNABLE_STATUSES:
            return (
                f"Subscription status {row['subscription_status']} does not allow pipeline runs "
                f"(only {' or '.join(RUNNABLE_STATUSES)})"
            )
        if row["concurrent_running"] >= row["concurrent_limit"]:
            return f"Concurrent pipeline limit ({row['concurrent_limit']}) reached"
        if row["quota_day"] == now.date().isoformat() and row["runs_today"] >= row["daily_limit"]:
            return f"Daily pipeline limit ({row['daily_limit']}) reached"
        return f"Monthly pipeline limit ({row['monthly_limit']}) reached"

    @staticmethod
    def _count(conn: Any, org_slug: str, now: dt.datetime, column: str) -> None:
        assert column in ("runs_started", "runs_succeeded", "runs_failed")
        conn.execute(
            f"insert into quota_daily (org_slug, usage_date, {column}) values (?, ?, 1) "
            f"on conflict (org_slug, usage_date) do update set {column} = quota_daily.{column} + 1",
            (org_slug, now.date().isoformat()),
        )

    @staticmethod
    def _add_transition(
        conn: Any,
        run_id: str,
        from_status: str | None,
        to_status: str,
        at: dt.datetime,
        detail: str | None,
    ) -> None:
        conn.execute(
            "insert into run_transitions (run_id, from_status, to_status, at, detail) values (?, ?, ?, ?, ?)",
            (run_id, from_status, to_status, iso(at), detail),
        )

    def _move(self, conn: Any, run_id: str, to_status: str, now: dt.datetime, detail: str | None) -> str:
        row = conn.execute(f"select status from pipeline_runs where run_id = ?{self._row_lock}", (run_id,)).fetchone()
        if row is None:
            raise UsageError(f"unknown run {run_id!r}")
        current = row["status"]
        if to_status not in RUN_TRANSITIONS.get(current, ()):
            raise UsageError(f"run {run_id}: cannot go from {current} to {to_status}")
        extra = ", started_at = :now" if to_status == "running" else ""
        conn.execute(
            f"update pipeline_runs set status = :to{extra} where run_id = :run",
            {"to": to_status, "now": iso(now), "run": run_id},
        )
        self._add_transition(conn, run_id, current, to_status, now, detail)
        return current

    def transition(self, run_id: str, to_status: str, detail: str | None = None) -> None:
        with self._tx() as conn:
            self._move(conn, run_id, to_status, utcnow(), detail)

    def _finish(self, conn: Any, run_id: str, status: str, error: str | None, now: dt.datetime) -> None:
        if status not in FINAL_STATUSES:
            raise UsageError(f"{status!r} is not a final run status")
        owner = conn.execute("select org_slug from pipeline_runs where run_id = ?", (run_id,)).fetchone()
        if owner is not None:  # an unknown run is reported by _move
            self._lock_org(conn, owner["org_slug"])
        self._move(conn, run_id, status, now, error)
        row = conn.execute("select org_slug, holds_slot from pipeline_runs where run_id = ?", (run_id,)).fetchone()
        conn.execute(
            "update pipeline_runs set finished_at = ?, error = ?, holds_slot = 0 where run_id = ?",
            (iso(now), error, run_id),
        )
        if row["holds_slot"]:
            conn.execute(
                f"update orgs set concurrent_running = {self._greatest}(concurrent_running - 1, 0) where org_slug = ?",
                (row["org_slug"],),
            )
        self._count(conn, row["org_slug"], now, "runs_succeeded" if status == "completed" else "runs_failed")

    def finish_run(self, run_id: str, status: str, error: str | None = None) -> None:
        with self._tx() as conn:
            self._finish(conn, run_id, status, error, utcnow())

    def get_run(self, org_slug: str, run_id: str) -> dict[str, Any]:
        validate_org_slug(org_slug)
        with self._read() as conn:
            row = conn.execute(
                "select run_id, org_slug, pipeline_id, pipeline_name, status, start_date, end_date, target, "
                "created_at, started_at, finished_at, error from pipeline_runs where org_slug = ? and run_id = ?",
                (org_slug, run_id),
            ).fetchone()
        if row is None:
            raise UsageError(f"no run {run_id!r} for organisation {org_slug!r}")
        return dict(row)

    def list_runs(self, org_slug: str, pipeline: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        validate_org_slug(org_slug)
        sql = (
            "select run_id, pipeline_id, pipeline_name, status, start_date, end_date, target, created_at, "
            "started_at, finished_at, error from pipeline_runs where org_slug = ?"
        )
        params: list[Any] = [org_slug]
        if pipeline:
            sql += " and (pipeline_id = ? or pipeline_name = ?)"
            params += [pipeline, pipeline]
        sql += " order by created_at desc, run_id limit ?"
        params.append(limit)
        with self._read() as conn:
            return [dict(r) for r in conn.execute(sql, params).fetchall()]

    def quota_usage(self, org_slug: str) -> dict[str, Any]:
        org = self.get_org(org_slug)
        now = utcnow()
        with self._read() as conn:
            row = conn.execute("select * from orgs where org_slug = ?", (org_slug,)).fetchone()
            today = conn.execute(
                "select runs_started, runs_succeeded, runs_failed from quota_daily where org_slug = ? "
                "and usage_date = ?",
                (org_slug, now.date().isoformat()),
            ).fetchone()
        return {
            "org_slug": org_slug,
            "plan_id": org["plan_id"],
            "subscription_status": org["subscription_status"],
            "runs_today": row["runs_today"] if row["quota_day"] == now.date().isoformat() else 0,
            "daily_limit": org["daily_limit"],
            "runs_month": row["runs_month"] if row["quota_month"] == now.strftime("%Y-%m") else 0,
            "monthly_limit": org["monthly_limit"],
            "concurrent_running": row["concurrent_running"],
            "concurrent_limit": org["concurrent_limit"],
            "succeeded_today": today["runs_succeeded"] if today else 0,
            "failed_today": today["runs_failed"] if today else 0,
        }

    # -- steps -----------------------------------------------------------------------------------
    def start_step_attempt(self, run_id: str, step_id: str, ps_type: str, attempt: int) -> int:
        with self._tx() as conn:
            row = conn.execute(
                "insert into step_runs (run_id, step_id, ps_type, attempt, status, started_at) "
                "values (?, ?, ?, ?, 'running', ?) returning step_run_id",
                (run_id, step_id, ps_type, attempt, iso(utcnow())),
            ).fetchone()
            return int(row["step_run_id"])

    def finish_step_attempt(
        self, step_run_id: int, status: str, rows: int | None = None, error: str | None = None
    ) -> None:
        if status not in STEP_STATUSES:
            raise UsageError(f"unknown step status {status!r}")
        with self._tx() as conn:
            conn.execute(
                "update step_runs set status = ?, rows_written = ?, error = ?, finished_at = ? where step_run_id = ?",
                (status, rows, error, iso(utcnow()), step_run_id),
            )

    def record_step_skipped(self, run_id: str, step_id: str, ps_type: str, reason: str) -> None:
        now = iso(utcnow())
        with self._tx() as conn:
            conn.execute(
                "insert into step_runs (run_id, step_id, ps_type, attempt, status, error, started_at, finished_at) "
                "values (?, ?, ?, 0, 'skipped', ?, ?, ?)",
                (run_id, step_id, ps_type, reason, now, now),
            )

    def list_steps(self, run_id: str) -> list[dict[str, Any]]:
        with self._read() as conn:
            rows = conn.execute(
                "select step_id, ps_type, attempt, status, rows_written, error, started_at, finished_at "
                "from step_runs where run_id = ? order by step_run_id",
                (run_id,),
            ).fetchall()
        return [dict(r) for r in rows]

    def list_transitions(self, run_id: str) -> list[dict[str, Any]]:
        with self._read() as conn:
            rows = conn.execute(
                "select from_status, to_status, at, detail from run_transitions where run_id = ? "
                "order by transition_id",
                (run_id,),
            ).fetchall()
        return [dict(r) for r in rows]

    # -- credentials -----------------------------------------------------------------------------
    def put_credential(self, credential: StoredCredential) -> None:
        self.get_org(credential.org_slug)
        now = iso(utcnow())
        with self._tx() as conn:
            conn.execute(
                "insert into credentials (org_slug, credential_id, provider, key_ref, wrapped_key, nonce, "
                "ciphertext, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "on conflict (org_slug, credential_id) do update set provider = excluded.provider, "
                "key_ref = excluded.key_ref, wrapped_key = excluded.wrapped_key, nonce = excluded.nonce, "
                "ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
                (
                    credential.org_slug,
                    credential.credential_id,
                    credential.provider,
                    credential.key_ref,
                    credential.wrapped_key,
                    credential.nonce,
                    credential.ciphertext,
                    now,
                    now,
                ),
            )

    def get_credential(self, org_slug: str, provider: str, credential_id: str | None) -> StoredCredential:
        validate_org_slug(org_slug)
        sql = "select * from credentials where org_slug = ? and provider = ?"
        params: list[Any] = [org_slug, provider]
        if credential_id is not None:
            sql += " and credential_id = ?"
            params.append(credential_id)
        with self._read() as conn:
            rows = conn.execute(sql, params).fetchall()
        if not rows:
            which = f" {credential_id!r}" if credential_id else ""
            raise UsageError(
                f"organisation {org_slug!r} has no {provider} credential{which}; "
                f"set one with `run.py credentials set {org_slug} {provider}` (secret on stdin)",
                org=org_slug,
            )
        if len(rows) > 1:
            ids = ", ".join(r["credential_id"] for r in rows)
            raise UsageError(
                f"organisation {org_slug!r} has several {provider} credentials ({ids}); "
                "name one with `credential_id` in the step config",
                org=org_slug,
            )
        return self._stored(rows[0])

    @staticmethod
    def _stored(row: Any) -> StoredCredential:
        return StoredCredential(
            org_slug=row["org_slug"],
            provider=row["provider"],
            credential_id=row["credential_id"],
            key_ref=row["key_ref"],
            wrapped_key=bytes(row["wrapped_key"]),
            nonce=bytes(row["nonce"]),
            ciphertext=bytes(row["ciphertext"]),
            updated_at=row["updated_at"],
        )

    def list_stored_credentials(self, org_slug: str | None = None) -> list[StoredCredential]:
        sql, params = "select * from credentials", []
        if org_slug is not None:
            sql, params = sql + " where org_slug = ?", [validate_org_slug(org_slug)]
        with self._read() as conn:
            return [self._stored(r) for r in conn.execute(sql + " order by org_slug, credential_id", params)]

    def rewrap_credential(self, stored: StoredCredential, *, key_ref: str, wrapped_key: bytes) -> bool:
        """Replace only the wrapped data key of ``stored`` (the secret's ciphertext is untouched).

        Compare-and-set on the whole envelope as read (key reference, wrapped key and the secret's
        nonce, which every `credentials set` renews): a credential set again meanwhile, even under
        the same key version, is never overwritten. Returns False when it changed.
        """
        with self._tx() as conn:
            cur = conn.execute(
                "update credentials set key_ref = ?, wrapped_key = ?, updated_at = ? "
                "where org_slug = ? and credential_id = ? and key_ref = ? and wrapped_key = ? and nonce = ?",
                (
                    key_ref,
                    wrapped_key,
                    iso(utcnow()),
                    stored.org_slug,
                    stored.credential_id,
                    stored.key_ref,
                    stored.wrapped_key,
                    stored.nonce,
                ),
            )
            return cur.rowcount == 1

    def list_credentials(self, org_slug: str) -> list[dict[str, Any]]:
        validate_org_slug(org_slug)
        with self._read() as conn:
            rows = conn.execute(
                "select credential_id, provider, key_ref, created_at, updated_at from credentials "
                "where org_slug = ? order by credential_id",
                (org_slug,),
            ).fetchall()
        return [dict(r) for r in rows]


class SqliteControlStore(SqlControlStore):
    """The embedded default: one SQLite file (WAL); every write transaction starts ``BEGIN IMMEDIATE``."""

    _schema_types = {"identity": "integer primary key autoincrement", "blob": "blob", "float": "real"}
    _integrity_errors = (sqlite3.IntegrityError,)

    def __init__(self, path: Path, plans_file: Path | None = None) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"
        path.parent.mkdir(parents=True, exist_ok=True)
        self._init_store(plans_file)

    def _create_schema(self) -> None:
        with self._read() as conn:
            conn.executescript(self._schema())  # idempotent DDL; executescript manages its own transaction

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("pragma journal_mode = wal")
        conn.execute("pragma foreign_keys = on")
        conn.execute("pragma busy_timeout = 60000")
        return conn

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken with BEGIN IMMEDIATE: writers are serialised up front."""
        conn = self._connect()
        try:
            conn.execute("begin immediate")
            try:
                yield conn
            except BaseException:
                conn.execute("rollback")
                raise
            conn.execute("commit")
        finally:
            conn.close()

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_store(control_url: str, plans_file: Path | None) -> ControlStore:
    """The control store named by FOCUSLINE_CONTROL_URL (``sqlite:///path`` or ``postgresql://...``)."""
    if control_url.startswith("sqlite:///"):
        return SqliteControlStore(Path(control_url.removeprefix("sqlite:///")), plans_file)
    if control_url.startswith(POSTGRES_SCHEMES):
        from orchestrator.store_postgres import PostgresControlStore  # psycopg is only imported when used

        return PostgresControlStore(control_url, plans_file)
    scheme = control_url.split(":", 1)[0]
    raise ConfigError(
        f"unsupported control store scheme {scheme!r} (supported: sqlite:///path, postgresql://user@host:port/db)",
        field="FOCUSLINE_CONTROL_URL",
    )
