"""The generated FOCUS 1.3 conformance tests on both engines: every rule must get the same verdict on the
BigQuery emulator as on DuckDB, so a billing source that conforms on one conforms on the other."""

from __future__ import annotations

from focusline.settings import Settings
from orchestrator.conformance import ConformanceReport, run_conformance


def conformance_on_both_engines(settings: Settings, org: str) -> ConformanceReport:
    """Run the conformance tests on ORG's mart on BigQuery and on DuckDB; assert equal statuses per rule.

    Returns the DuckDB report, for the caller's own expectations (which rules fail, with how many rows).
    """
    on_bigquery = {r.rule_id: r.status for r in run_conformance(settings, org, target="bigquery").results}
    report = run_conformance(settings, org)
    on_duckdb = {r.rule_id: r.status for r in report.results}
    assert set(on_bigquery) == set(on_duckdb)
    differ = {rule: (status, on_bigquery[rule]) for rule, status in on_duckdb.items() if on_bigquery[rule] != status}
    assert differ == {}, f"rule: (DuckDB, BigQuery) {differ}"
    assert report.summary()["pass"] >= 300
    return report
