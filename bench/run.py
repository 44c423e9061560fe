"""``make bench``: the AWS CUR 2.0 -> FOCUS 1.3 pipeline against a hand-written DuckDB floor, per size.

For each size (``--sizes 100k,1M,10M``) the harness generates CUR 2.0 Parquet files of a realistic shape
(demo/aws_cur.py ``write_cur2_parquet_scaled``: 90 days = 3 billing periods, every CUR 2.0 column; kept
under ``<bench dir>/data`` and reused), then measures, each as its own process tree:

* ``pipeline``: the real thing, ``run.py run bench cloud/aws/cur`` over the 90 days on an empty warehouse
  (extract -> raw table -> dbt build of ``+cost_data_standard_1_3`` with its tests), split into its steps
  from the run's own step records, and the dbt step into model/test time from dbt's log;
* ``floor``: bench/floor.sql, one hand-written statement doing the same mapping from the same files into a
  FOCUS table (bench/floor.py);
* ``reprocess_day_dbt``: one day (``--day``) re-processed by the transform step alone (a pipeline with the
  ``dbt.build`` step of cloud/aws/cur and ``window: days``) on the loaded warehouse;
* ``reprocess_day_pipeline``: the shipped cloud/aws/cur pipeline run for that one day: AWS rewrites whole
  months, so its extract reloads the day's billing period and its transform (``window: months``) rebuilds it.

Each measurement: wall time, rows/s, peak RSS of the process tree (psutil, sampled every 50 ms, summed over
the process and its children, dbt's child included) and of each process, and CPU seconds of the tree; the
load average around it (the machine is shared). After every run the FOCUS rows must equal
the floor's (row count, sum of BilledCost and EffectiveCost), else the benchmark fails.
Results: a table on stdout and ``bench/results/<UTC timestamp>.json`` + ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import psutil

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
ORG = "bench"
PIPELINE = "cloud/aws/cur"
DAY_PIPELINE = "bench/aws_cur_transform_day"
FIRST_DAY = dt.date(2026, 1, 1)
LAST_DAY = dt.date(2026, 3, 31)  # 90 days, 3 billing periods
DEFAULT_DAY = dt.date(2026, 3, 15)
SEED = 7
SAMPLE_SECONDS = 0.05
TARGETS = {"rows": 10_000_000, "wall_s": 60.0, "peak_rss_mb": 4096.0, "floor_ratio": 2.0, "day_fraction": 0.05}


def parse_size(text: str) -> int:
    """``2k`` -> 2000, ``1M`` -> 1000000, ``100000`` -> 100000."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if not match:
        raise ValueError(f"not a size: {text!r} (e.g. 100k, 1M, 10M)")
    factor = {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    return int(float(match.group(1)) * factor)


def size_label(rows: int) -> str:
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return str(rows)


@dataclass
class Measurement:
    name: str
    command: list[str]
    wall_s: float
    peak_rss_mb: float  # process tree (summed over its processes), sampled every SAMPLE_SECONDS
    peak_rss_mb_by_process: dict[str, float]  # the peak of each process of the tree: run.py, dbt, floor
    cpu_s: float  # user + system of the whole tree
    load_before: float
    load_after: float
    exit_code: int
    rows: int = 0
    rows_per_s: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)


def _role(member: psutil.Process) -> str:
    """A short name for a process of the measured tree: run.py, dbt (its child) or the floor."""
    try:  # the process may have exited since it was listed
        command = " ".join(member.cmdline())
        for marker, role in (("dbt_invoke", "dbt"), ("bench.floor", "floor"), ("run.py", "run.py")):
            if marker in command:
                return role
        return member.name()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return "other"


def measure(name: str, argv: list[str], env: dict[str, str], log: Path) -> tuple[Measurement, str]:
    """Run ``argv`` to completion; its wall time, peak RSS of its process tree (and per process) and CPU time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    peak_by_role: dict[str, int] = {}
    with log.open("wb") as output:
        process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=output)
        root = psutil.Process(process.pid)
        roles: dict[int, str] = {}
        peak = 0
        chunks: list[bytes] = []
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)
        while process.poll() is None:
            total = 0
            try:
                members = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                members = []
            for member in members:
                try:
                    rss = member.memory_info().rss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                total += rss
                role = roles.setdefault(member.pid, _role(member))
                peak_by_role[role] = max(peak_by_role.get(role, 0), rss)
            peak = max(peak, total)
            chunk = process.stdout.read()
            if chunk:
                chunks.append(chunk)
            time.sleep(SAMPLE_SECONDS)
        rest = process.stdout.read()
        if rest:
            chunks.append(rest)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = Measurement(
        name=name,
        command=[a.replace(str(REPO) + "/", "") for a in argv],
        wall_s=round(wall, 2),
        peak_rss_mb=round(peak / 2**20, 1),
        peak_rss_mb_by_process={role: round(rss / 2**20, 1) for role, rss in sorted(peak_by_role.items())},
        cpu_s=round(cpu, 2),
        load_before=round(load_before, 2),
        load_after=round(os.getloadavg()[0], 2),
        exit_code=process.returncode,
    )
    return result, b"".join(chunks).decode("utf-8", errors="replace")


# other billing exports, measured as their own pipeline runs (no floor): pipeline, its default uri, provider slug
EXTRA_SOURCES = {
    "gcp": ("cloud/gcp/billing_export", "exports/gcp/billing", "gcp"),
    "azure": ("cloud/azure/cost_details", "exports/azure/cost_details", "azure"),
}


def _write_extra(source: str, directory: Path, rows: int) -> list[Path]:
    """``rows`` rows of the source's export over the same 3 months (its helper's generator in demo/)."""
    from demo.aws_cur import scaled_rows_per_period

    paths = []
    for period, count in scaled_rows_per_period(rows, FIRST_DAY, 3):
        if source == "gcp":
            from demo.gcp_billing import write_gcp_parquet

            paths.append(write_gcp_parquet(directory / f"gcp-{period:%Y%m}.parquet", count, SEED, invoice_month=period))
        else:
            from demo.azure_cost import write_azure_csv

            paths.append(write_azure_csv(directory / f"azure-{period:%Y%m}.csv.gz", count, SEED, period=period))
    return paths


def ensure_extra_data(base: Path, source: str, rows: int) -> tuple[Path, float | None]:
    directory = base / "data" / f"{source}-{size_label(rows)}-seed{SEED}"
    done = directory / ".complete"
    if done.exists():
        return directory, None
    shutil.rmtree(directory, ignore_errors=True)
    started = time.monotonic()
    _write_extra(source, directory / "export", rows)
    seconds = time.monotonic() - started
    done.write_text(json.dumps({"rows": rows, "seconds": round(seconds, 1)}))
    return directory, seconds


def ensure_data(base: Path, rows: int) -> tuple[Path, list[str], float | None]:
    """The CUR 2.0 Parquet files of ``rows`` rows (generated once, then reused); seconds spent generating."""
    from demo.aws_cur import write_cur2_parquet_scaled

    directory = base / "data" / f"cur2-{size_label(rows)}-seed{SEED}"
    done = directory / ".complete"
    if done.exists():
        return directory, json.loads(done.read_text())["files"], None
    shutil.rmtree(directory, ignore_errors=True)
    started = time.monotonic()
    paths = write_cur2_parquet_scaled(directory, rows, first_period=FIRST_DAY, periods=3, seed=SEED)
    seconds = time.monotonic() - started
    files = [str(p.resolve()) for p in paths]
    done.write_text(json.dumps({"rows": rows, "files": files, "seconds": round(seconds, 1)}))
    return directory, files, seconds


def point_config(configs: Path, pipeline: str, default_uri: str, uri: Path) -> None:
    """Set the pipeline config's ``export_uri`` variable to ``uri`` (the benchmark data)."""
    config = configs / f"{pipeline}.yml"
    text = config.read_text(encoding="utf-8")
    if f"export_uri: {default_uri}" not in text:
        raise RuntimeError(f"{config}: expected 'export_uri: {default_uri}' to point at the benchmark data")
    config.write_text(text.replace(f"export_uri: {default_uri}", f"export_uri: {uri}"), encoding="utf-8")


def prepare_workspace(work: Path, data_dir: Path) -> dict[str, str]:
    """A fresh state dir, warehouse dir and configs copy (export_uri -> the data; the one-day transform pipeline)."""
    shutil.rmtree(work, ignore_errors=True)
    configs = work / "configs"
    shutil.copytree(REPO / "configs", configs)
    point_config(configs, PIPELINE, "exports/aws/cur", data_dir / "data")
    (configs / "bench").mkdir()
    (configs / "bench" / "aws_cur_transform_day.yml").write_text(
        "# make bench: the transform step of cloud/aws/cur alone, over the run's days (window: days)\n"
        "pipeline_id: cloud_aws_cur\n"  # the same pipeline id: the same load keys and lineage
        "name: AWS CUR transform, days window (benchmark)\n"
        "provider: aws\n"
        "domain: cloud\n"
        'version: "1.0"\n'
        "timeout_minutes: 60\n"
        "steps:\n"
        "  - step_id: transform\n"
        "    ps_type: dbt.build\n"
        "    timeout_seconds: 3600\n"
        '    config: {select: "+cost_data_standard_1_3", window: days}\n',
        encoding="utf-8",
    )
    return prepare_env(work, configs)


def prepare_env(work: Path, configs: Path) -> dict[str, str]:
    """The environment of the measured processes: state, warehouse and configs under ``work`` (no other FOCUSLINE_*)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("FOCUSLINE_") or key in ("FOCUSLINE_LOG_LEVEL", "FOCUSLINE_DUCKDB_MEMORY_LIMIT")
    }
    env.update(
        {
            "FOCUSLINE_STATE_DIR": str(work / "state"),
            "FOCUSLINE_WAREHOUSE_DIR": str(work / "warehouse"),
            "FOCUSLINE_CONFIGS_DIR": str(configs),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
    )
    return env


def run_cli(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, str(REPO / "run.py"), *args], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"run.py {' '.join(args)} failed: {result.stderr[-2000:]}")
    return result.stdout


def step_seconds(env: dict[str, str], run_id: str) -> dict[str, float]:
    """Per step: seconds from its own start/finish record (``run.py logs ORG RUN --json``)."""
    out: dict[str, float] = {}
    for step in json.loads(run_cli(["logs", ORG, run_id, "--json"], env)):
        started, finished = step.get("started_at"), step.get("finished_at")
        if started and finished:
            seconds = (
                dt.datetime.fromisoformat(str(finished)) - dt.datetime.fromisoformat(str(started))
            ).total_seconds()
            out[step["step_id"]] = round(out.get(step["step_id"], 0.0) + seconds, 2)
    return out


def dbt_breakdown(work: Path, run_id: str, step_id: str = "transform") -> dict[str, Any]:
    """From dbt's output of the step: seconds in the mart model, in all models, in tests; the slowest nodes."""
    log = work / "state" / "dbt" / run_id / step_id / "dbt_output.log"
    if not log.exists():
        return {}
    nodes: list[tuple[str, str, float]] = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        line = re.sub(r"\x1b\[[0-9;]*m", "", line)
        match = re.search(r"\d+ of \d+ (OK|PASS|FAIL|ERROR|WARN) (.*?)\s\.*\s*\[.*? in ([\d.]+)s\]", line)
        if match:
            status, text, seconds = match.groups()
            kind = "model" if status == "OK" and " model " in text else "seed" if "seed file" in text else "test"
            nodes.append((kind, text.split()[-1], float(seconds)))
    total = {kind: round(sum(s for k, _, s in nodes if k == kind), 2) for kind in ("model", "seed", "test")}
    mart = next((s for k, n, s in nodes if k == "model" and n.endswith("cost_data_standard_1_3")), None)
    slowest = sorted(nodes, key=lambda node: -node[2])[:5]
    return {
        "dbt_nodes": len(nodes),
        "dbt_mart_model_s": mart,
        "dbt_models_s": total["model"],
        "dbt_tests_s": total["test"],
        "dbt_seeds_s": total["seed"],
        "dbt_slowest": [f"{name} {seconds:.1f}s" for _, name, seconds in slowest],
        "dbt_node_seconds_note": "node times are summed over dbt's 2 threads",
    }


def focus_totals(warehouse: Path, provider: str = "aws") -> dict[str, Any]:
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows, billed, effective = conn.execute(
            "select count(*), sum(BilledCost), sum(EffectiveCost) from main.cost_data_standard_1_3 "
            "where x_ProviderSlug = ?",
            [provider],
        ).fetchone() or (0, None, None)
    finally:
        conn.close()
    return {"rows": rows, "billed_cost": str(billed), "effective_cost": str(effective)}


def day_rows(warehouse: Path, day: dt.date) -> int:
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        found = conn.execute(
            "select count(*) from main.cost_data_standard_1_3 where x_ProviderSlug = 'aws' "
            "and cast(ChargePeriodStart as date) = ?",
            [day],
        ).fetchone()
    finally:
        conn.close()
    return int(found[0]) if found else 0


def run_pipeline(name: str, pipeline: str, day_from: dt.date, day_to: dt.date, env: dict, work: Path) -> Measurement:
    argv = [sys.executable, str(REPO / "run.py"), "run", ORG, pipeline, "--start-date", str(day_from)]
    argv += ["--end-date", str(day_to), "--json"]
    result, stdout = measure(name, argv, env, work / f"{name}.log")
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        report = {}
    if result.exit_code != 0 or report.get("status") != "completed":
        tail = (work / f"{name}.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{name}: run failed (exit {result.exit_code}): {report.get('error')}\n{tail}")
    run_id = report["run_id"]
    result.detail = {"run_id": run_id, "steps_s": step_seconds(env, run_id)}
    result.detail.update({f"steps_rows.{s['step_id']}": s["rows"] for s in report.get("steps", [])})
    result.detail.update(dbt_breakdown(work, run_id))
    return result


def bench_extra(source: str, rows: int, base: Path, *, keep: bool = False) -> dict[str, Any]:
    """The source's shipped pipeline over the 90 days on an empty warehouse; a failure is recorded, not raised."""
    pipeline, default_uri, provider = EXTRA_SOURCES[source]
    name = f"pipeline_{source}"
    try:
        data_dir, generated = ensure_extra_data(base, source, rows)
        work = base / "work" / f"{size_label(rows)}-{source}"
        shutil.rmtree(work, ignore_errors=True)
        configs = work / "configs"
        shutil.copytree(REPO / "configs", configs)
        point_config(configs, pipeline, default_uri, data_dir / "export")
        env = prepare_env(work, configs)
        run_cli(["orgs", "create", ORG, "--plan", "scale"], env)
        result = run_pipeline(name, pipeline, FIRST_DAY, LAST_DAY, env, work)
        result.detail["focus"] = focus_totals(work / "warehouse" / f"{ORG}.duckdb", provider)
        result.detail["generated_s"] = round(generated, 1) if generated is not None else None
        result.rows = rows
        result.rows_per_s = round(rows / result.wall_s) if result.wall_s else 0.0
        if not keep:
            shutil.rmtree(work / "warehouse", ignore_errors=True)
        return asdict(result)
    except Exception as exc:  # another helper's source: report it, keep the AWS results
        return {"name": name, "error": " ".join(str(exc).split())[:1500]}


def bench_size(
    rows: int, base: Path, day: dt.date, *, keep: bool = False, sources: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Every measurement at one size; ``keep`` leaves the warehouses and the floor's table in the work dirs.

    ``sources``: other billing exports (EXTRA_SOURCES) whose pipelines are measured too, on their own data.
    """
    label = size_label(rows)
    data_dir, files, generated = ensure_data(base, rows)
    work = base / "work" / label
    env = prepare_workspace(work, data_dir)
    run_cli(["orgs", "create", ORG, "--plan", "scale"], env)
    warehouse = work / "warehouse" / f"{ORG}.duckdb"
    measurements: list[Measurement] = []

    full = run_pipeline("pipeline", PIPELINE, FIRST_DAY, LAST_DAY, env, work)
    full.detail["focus"] = focus_totals(warehouse)
    measurements.append(full)

    floor_db = work / "floor.duckdb"
    argv = [sys.executable, "-m", "bench.floor", "--db", str(floor_db), "--files", ",".join(files)]
    floor, stdout = measure("floor", argv, env, work / "floor.log")
    if floor.exit_code != 0:
        raise RuntimeError(f"floor failed: {(work / 'floor.log').read_text(errors='replace')[-3000:]}")
    floor.detail["focus"] = json.loads(stdout.strip().splitlines()[-1])
    measurements.append(floor)
    if not keep:
        floor_db.unlink()

    day_dbt = run_pipeline("reprocess_day_dbt", DAY_PIPELINE, day, day, env, work)
    day_dbt.detail["focus"] = focus_totals(warehouse)
    measurements.append(day_dbt)
    day_pipeline = run_pipeline("reprocess_day_pipeline", PIPELINE, day, day, env, work)
    day_pipeline.detail["focus"] = focus_totals(warehouse)
    measurements.append(day_pipeline)

    full.rows = floor.rows = rows
    day_dbt.rows = day_rows(warehouse, day)  # the rows the transform rebuilt
    day_pipeline.rows = int(day_pipeline.detail.get("steps_rows.extract_cur", 0))  # the billing period reloaded
    for m in measurements:
        m.rows_per_s = round(m.rows / m.wall_s) if m.wall_s else 0.0
        if m.detail["focus"] != floor.detail["focus"]:
            raise RuntimeError(f"{label} {m.name}: FOCUS rows {m.detail['focus']} differ from the floor's")
    for m in measurements:
        if m.name != "floor":
            m.detail["ratio_to_floor"] = round(m.wall_s / floor.wall_s, 2)
        if m.name.startswith("reprocess_day"):
            m.detail["fraction_of_full"] = round(m.wall_s / full.wall_s, 3)
    if not keep:
        shutil.rmtree(work / "warehouse", ignore_errors=True)  # the warehouse of 10M rows is some GB
    return {
        "rows": rows,
        "label": label,
        "data": {"dir": str(data_dir), "files": len(files), "bytes": sum(Path(f).stat().st_size for f in files)},
        "generated_s": round(generated, 1) if generated is not None else None,
        "day": str(day),
        "measurements": [asdict(m) for m in measurements],
        "other_sources": [bench_extra(source, rows, base, keep=keep) for source in sources],
    }


def environment() -> dict[str, Any]:
    def version(module: str) -> str:
        try:
            from importlib.metadata import version as v

            return v(module)
        except Exception:
            return "?"

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True)
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dbt_core": version("dbt-core"),
        "dbt_duckdb": version("dbt-duckdb"),
        "git_commit": commit.stdout.strip(),
        "git_dirty": bool(dirty.stdout.strip()),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def verdict(sizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's targets against what was measured (at 10M rows when measured, else the largest size)."""
    size = next((s for s in sizes if s["rows"] == TARGETS["rows"]), sizes[-1])
    by_name = {m["name"]: m for m in size["measurements"]}
    pipeline, day = by_name["pipeline"], by_name["reprocess_day_dbt"]
    rows = [
        ("wall time, 90 days to FOCUS", pipeline["wall_s"], TARGETS["wall_s"], "s"),
        ("peak RSS (process tree)", pipeline["peak_rss_mb"], TARGETS["peak_rss_mb"], "MB"),
        ("pipeline / floor wall time", pipeline["detail"]["ratio_to_floor"], TARGETS["floor_ratio"], "x"),
        ("re-process one day (dbt) / full", day["detail"]["fraction_of_full"], TARGETS["day_fraction"], ""),
    ]
    return [
        {"size": size["label"], "target": t, "measured": v, "limit": limit, "unit": unit, "met": v <= limit}
        for t, v, limit, unit in rows
    ]


def markdown(result: dict[str, Any]) -> str:
    lines = [f"# focusline benchmark {result['started_at']}", ""]
    env = result["environment"]
    lines += [
        f"{env['cpus']} CPUs, {env['memory_gb']} GB, Python {env['python']}, DuckDB {env['duckdb']}, "
        f"dbt-core {env['dbt_core']} + dbt-duckdb {env['dbt_duckdb']}, commit {env['git_commit']}"
        f"{' (uncommitted changes)' if env['git_dirty'] else ''}; load average at start "
        f"{env['load_average_at_start']} (shared machine: compare CPU seconds too).",
        "",
        "| size | measurement | wall s | rows | rows/s | peak RSS MB | CPU s | x floor | of full | load |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in result["sizes"]:
        for m in size["measurements"]:
            d = m["detail"]
            ratio = f"{d['ratio_to_floor']:.2f}" if "ratio_to_floor" in d else ""
            fraction = f"{d['fraction_of_full']:.1%}" if "fraction_of_full" in d else ""
            lines.append(
                f"| {size['label']} | {m['name']} | {m['wall_s']:.1f} | {m['rows']:,} | {m['rows_per_s']:,.0f} "
                f"| {m['peak_rss_mb']:,.0f} | {m['cpu_s']:.1f} | {ratio} | {fraction} "
                f"| {m['load_before']:.1f}-{m['load_after']:.1f} |"
            )
    others = [(size, m) for size in result["sizes"] for m in size.get("other_sources", [])]
    if others:
        lines += ["", "Other billing exports (their shipped pipeline, 90 days, empty warehouse; no floor):", ""]
        lines += ["| size | measurement | wall s | rows | rows/s | peak RSS MB | CPU s | FOCUS rows | steps s |"]
        lines += ["|---:|---|---:|---:|---:|---:|---:|---:|---|"]
        for size, m in others:
            if "error" in m:
                lines.append(f"| {size['label']} | {m['name']} | failed: {m['error'][:300]} | | | | | | |")
                continue
            lines.append(
                f"| {size['label']} | {m['name']} | {m['wall_s']:.1f} | {m['rows']:,} | {m['rows_per_s']:,.0f} "
                f"| {m['peak_rss_mb']:,.0f} | {m['cpu_s']:.1f} | {m['detail']['focus']['rows']:,} "
                f"| {m['detail']['steps_s']} |"
            )
    lines += ["", "Breakdown (steps from the run's step records; dbt node seconds summed over its 2 threads):", ""]
    for size in result["sizes"]:
        for m in size["measurements"]:
            d = m["detail"]
            memory = ", ".join(f"{role} {mb:,.0f}" for role, mb in m["peak_rss_mb_by_process"].items())
            text = f"- {size['label']} {m['name']}: peak RSS MB by process: {memory}"
            if "steps_s" in d:
                text += (
                    f"; steps s {d['steps_s']}; dbt: mart model {d.get('dbt_mart_model_s')} s, models "
                    f"{d.get('dbt_models_s')} s, tests {d.get('dbt_tests_s')} s, slowest {d.get('dbt_slowest')}"
                )
            lines.append(text)
    if result.get("verdict"):
        lines += ["", "| target | size | measured | limit | met |", "|---|---|---:|---:|---|"]
        for v in result["verdict"]:
            lines.append(
                f"| {v['target']} | {v['size']} | {v['measured']}{v['unit']} | {v['limit']}{v['unit']} | "
                f"{'yes' if v['met'] else 'NO'} |"
            )
    lines += ["", "What each measurement is:", ""]
    lines += [f"- {line}" for line in MEANINGS]
    return "\n".join(lines) + "\n"


MEANINGS = (
    "pipeline: `run.py run bench cloud/aws/cur` for 2026-01-01..2026-03-31 on an empty warehouse: the extract "
    "reads every Parquet file and replaces the 3 billing periods in raw.raw_aws_cur, then dbt builds "
    "+cost_data_standard_1_3 (seeds, views, the incremental mart, and every test attached to them).",
    "floor: bench/floor.sql, one DuckDB statement from the same files to a FOCUS table (same mapping, same "
    "money conversion), no raw table, no dbt, no tests.",
    "reprocess_day_dbt: the transform step alone for one day (window: days) on the loaded warehouse: the "
    "mart's incremental window deletes and rebuilds that day; dbt still starts, parses, seeds, and runs every "
    "test over the whole table.",
    "reprocess_day_pipeline: the shipped cloud/aws/cur pipeline for that one day: AWS restates whole months, "
    "so the extract replaces the day's billing period (a month) and the transform rebuilds that month.",
    "rows: what the measurement processed (all rows; for reprocess_day_dbt the day's FOCUS rows, for "
    "reprocess_day_pipeline the billing period's rows); x floor = wall / floor wall; of full = wall / the "
    "pipeline's wall (the full build of 90 days). Peak RSS is the process tree's (run.py + dbt's child).",
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100k,1M", help="comma-separated row counts, e.g. 100k,1M,10M")
    parser.add_argument("--bench-dir", type=Path, default=Path(os.environ.get("BENCH_DIR", REPO / ".focusline/bench")))
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    parser.add_argument("--day", type=dt.date.fromisoformat, default=DEFAULT_DAY)
    parser.add_argument("--keep", action="store_true", help="keep each size's warehouse and floor table")
    parser.add_argument(
        "--sources",
        default="aws,gcp,azure",
        help="billing exports to measure: aws (always: pipeline, floor, re-processing) plus gcp, azure (pipeline)",
    )
    args = parser.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    if not sizes:
        parser.error("--sizes names no size")
    sources = tuple(s.strip() for s in args.sources.split(",") if s.strip() and s.strip() != "aws")
    unknown = sorted(set(sources) - set(EXTRA_SOURCES))
    if unknown:
        parser.error(f"unknown sources {unknown} (aws, {', '.join(EXTRA_SOURCES)})")
    started = dt.datetime.now(dt.UTC)
    result: dict[str, Any] = {
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "environment": environment(),
        "targets": TARGETS,
        "sizes": [],
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stem = args.results_dir / started.strftime("%Y%m%dT%H%M%SZ")
    for rows in sizes:  # the results files are rewritten after every size: a stopped run keeps what it measured
        print(f"bench: {size_label(rows)} rows ...", file=sys.stderr, flush=True)
        result["sizes"].append(bench_size(rows, args.bench_dir, args.day, keep=args.keep, sources=sources))
        result["verdict"] = verdict(result["sizes"])
        result["finished_at"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        text = markdown(result)
        stem.with_suffix(".md").write_text(text, encoding="utf-8")
    print(text)
    print(f"results: {stem}.json, {stem}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
