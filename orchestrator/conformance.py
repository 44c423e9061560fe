"""FOCUS 1.3 conformance from the spec's own rules (the requirements model, ``model-1.3.json``).

``generate`` turns every MUST / MUST NOT rule of the Cost and Usage dataset into either a dbt test
(``models/conformance/_focus_conformance.yml``, three generic tests in ``data-tests/generic/focus_rule_*``
that compile the rule's CheckFunction tree to SQL) or a row of ``focus_conformance_rules.csv`` that says
why it cannot be checked on data. ``run_conformance`` runs the generated tests against one
organisation's ``cost_data_standard_1_3`` (through a disabled-by-default view,
``focus_conformance_subject``) and reports pass / fail per rule.

How rules are read:
* The walk starts at ``CAU-CostAndUsage-D-000-M`` and follows ``CheckModelRule`` items. A composite's
  Condition and ApplicabilityCriteria are inherited by its parts (``When X is not null, X adheres to
  ...``), so every leaf test carries the full condition and criteria of its path.
* Composites are not tests: they resolve to their parts (their status is derived from them).
* ``Type: Dynamic`` rules have no Requirement: not checkable, except the few in ``SUPPLEMENTS`` that have
  a sound necessary condition on data (e.g. ChargePeriodStart < ChargePeriodEnd).
* ``OVERRIDES`` corrects the upstream rules whose Requirement/Condition contradicts their own sentence.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from focusline.errors import InputDataError, TerminalError
from focusline.settings import Settings
from focusline.tenancy import validate_org_slug

logger = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[1]
MODEL_PATH = Path(__file__).resolve().parent / "focus_model" / "model-1.3.json"
YAML_PATH = PROJECT_DIR / "models" / "conformance" / "_focus_conformance.yml"
CSV_PATH = PROJECT_DIR / "models" / "conformance" / "focus_conformance_rules.csv"
SUBJECT_MODEL = "focus_conformance_subject"
ROOT_RULE = "CAU-CostAndUsage-D-000-M"
MUST_KEYWORDS = ("MUST", "MUST NOT")
CURRENCY_DATE = (2025, 1, 1)  # ISO 4217 national currencies in tender on this date (babel/CLDR)

ROW_FUNCTIONS = {
    "AND",
    "OR",
    "CheckValue",
    "CheckNotValue",
    "CheckGreaterOrEqualThanValue",
    "CheckSameValue",
    "CheckDecimalValue",
    "ColumnByColumnEqualsColumnValue",
    "FormatNumeric",
    "FormatDateTime",
    "FormatUnit",
    "FormatCurrency",
    "CheckNationalCurrency",
    "FormatKeyValue",
    "FormatJSON",
    "JSONCheckPathType",
    "JSONCheckPathKeyExists",
    "JSONCheckPathValue",
    "JSONCheckPathNotValue",
    "JSONCheckPathKeyValueFormat",
    "JSONCheckPathKeyStartsWith",
    "JSONCheckPathSameValue",
    "JSONCheckPathNumericFormat",
    "JSONFormatNumeric",
    "JSONCheckPathUnitFormat",
    "JSONFormatUnit",
    "x_CheckColumnGreaterThanColumn",
}
SCHEMA_FUNCTIONS = {"ColumnPresent", "TypeDecimal", "TypeString", "TypeDateTime"}

DYNAMIC_REASON = (
    "Dynamic rule (no Requirement in the model): needs knowledge outside the table's rows "
    "(provider behaviour, price lists, invoices, other datasets or history)"
)
NOT_CHECKABLE = {
    "FormatString": "StringHandling: its MUST parts (StringHandling-A-003..006: original casing, consistency "
    "across billing periods and restatements) need the source data and history, not one table",
    "JSONFormatString": "StringHandling inside a JSON object: same as FormatString (needs source data and history)",
    "JSONCheckPathDistinctParent": "not implemented: cross-row uniqueness inside JSON arrays "
    "(ContractApplied is always null in focusline)",
}


def _node(function: str, **arguments: Any) -> dict[str, Any]:
    return {"CheckFunction": function, **arguments}


def _not_null(column: str) -> dict[str, Any]:
    return _node("CheckNotValue", ColumnName=column, Value=None)


# Upstream rules whose Requirement or Condition contradicts their own MustSatisfy sentence (see the
# requirements-model README, "Upstream inconsistencies"): the sentence wins.
OVERRIDES: dict[str, dict[str, Any]] = {
    "CAU-CommitmentDiscountStatus-C-003-C": {
        "Requirement": _node("CheckValue", ColumnName="CommitmentDiscountStatus", Value=None),
        "note": "model says CheckNotValue; the sentence says MUST be null",
    },
    "CAU-CommitmentDiscountStatus-C-004-C": {
        "Condition": _node(
            "AND",
            Items=[_not_null("CommitmentDiscountId"), _node("CheckValue", ColumnName="ChargeCategory", Value="Usage")],
        ),
        "note": "model's Condition tests CommitmentDiscountId is null; the sentence says not null and Usage",
    },
    "CAU-ConsumedQuantity-C-006-C": {
        "Condition": _node("CheckNotValue", ColumnName="ChargeClass", Value="Correction"),
        "note": "model's Condition is ChargeClass = Correction; the sentence says is not Correction",
    },
    "CAU-Tags-C-003-C": {
        "Condition": _not_null("Tags"),
        "note": "model's Condition is Tags is null; the sentence says when Tags is not null",
    },
    "CAU-ResourceName-C-005-C": {
        "Condition": _not_null("ResourceId"),
        "note": "model's Condition is ResourceId is null; the sentence says ResourceId is not null",
    },
    "CAU-CapacityReservationStatus-C-003-C": {
        "Condition": _node("CheckValue", ColumnName="CapacityReservationId", Value=None),
        "note": "model's Condition uses a non-standard {AND: ...} shape; same meaning as a CheckFunction tree",
    },
    "CAU-CapacityReservationStatus-C-004-C": {
        "Condition": _node(
            "AND",
            Items=[_not_null("CapacityReservationId"), _node("CheckValue", ColumnName="ChargeCategory", Value="Usage")],
        ),
        "note": "model's Condition uses a non-standard {AND: [...]} shape; same meaning as a CheckFunction tree",
    },
    "CAU-PricingCurrencyContractedUnitPrice-C-012-C": {
        "Condition": _not_null("SkuPriceId"),
        "note": "model's Condition is SkuPriceId is null; the sentence says when SkuPriceId is not null",
    },
    "CAU-PricingCurrencyEffectiveCost-C-004-M": {
        "Requirement": _node("CheckDecimalValue", ColumnName="PricingCurrencyEffectiveCost"),
        "note": "model checks PricingCurrencyListUnitPrice >= 0; the sentence is about PricingCurrencyEffectiveCost",
    },
}

# Dynamic rules with a sound necessary condition on data (a failure is a real violation; a pass is
# not proof of the whole sentence).
SUPPLEMENTS: dict[str, dict[str, Any]] = {
    "CAU-ChargePeriodEnd-C-004-M": {
        "Requirement": _node(
            "x_CheckColumnGreaterThanColumn", ColumnAName="ChargePeriodEnd", ColumnBName="ChargePeriodStart"
        ),
        "note": "necessary condition only: ChargePeriodStart < ChargePeriodEnd (exclusive end bound)",
    },
    "CAU-BillingPeriodEnd-C-004-M": {
        "Requirement": _node(
            "x_CheckColumnGreaterThanColumn", ColumnAName="BillingPeriodEnd", ColumnBName="BillingPeriodStart"
        ),
        "note": "necessary condition only: BillingPeriodStart < BillingPeriodEnd (exclusive end bound)",
    },
}

# MUST rules focusline's own table is known to break today: still generated and run, with dbt
# severity warn; `run.py conformance` reports them as known-deviation (exit 0 unless --strict).
# tests/test_conformance.py asserts each one still fails on the demo table, so a fixed one must be removed here.
# Rules our own table is known to break, with the reason: kept checked at severity warn (a test fails
# once one passes, so the list stays honest). Empty: fill it only with a reason and a fix.
KNOWN_DEVIATIONS: dict[str, str] = {}


@dataclass
class RuleEntry:
    rule_id: str
    keyword: str
    function: str
    column: str
    rule_type: str
    checkable: str  # yes | no | composite
    reason: str
    test_name: str = ""
    test_kind: str = ""  # focus_rule_rows | focus_rule_schema | focus_rule_distinct_count
    requirement: dict[str, Any] = field(default_factory=dict)
    condition: dict[str, Any] = field(default_factory=dict)
    applicability: list[str] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    must_satisfy: str = ""


def load_model(path: Path = MODEL_PATH) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def national_currency_codes() -> list[str]:
    """ISO 4217 codes in tender in some territory on CURRENCY_DATE (CLDR data shipped with babel)."""
    import babel.core

    codes = set()
    for currencies in babel.core.get_global("territory_currencies").values():
        for code, start, end, tender in currencies:
            if tender and (start is None or start <= CURRENCY_DATE) and (end is None or end >= CURRENCY_DATE):
                codes.add(code)
    return sorted(codes)


def test_name(rule_id: str) -> str:
    return "focus_" + rule_id.lower().replace("-", "_")


def _functions(node: dict[str, Any]) -> set[str]:
    found = {node["CheckFunction"]} if node.get("CheckFunction") else set()
    for item in node.get("Items", []):
        found |= _functions(item)
    return found


def _child_ids(node: dict[str, Any]) -> list[str]:
    if node.get("CheckFunction") == "CheckModelRule":
        return [node["ModelRuleId"]]
    return [child for item in node.get("Items", []) for child in _child_ids(item)]


def _and(conditions: list[dict[str, Any]]) -> dict[str, Any]:
    conditions = [c for c in conditions if c]
    if not conditions:
        return {}
    return conditions[0] if len(conditions) == 1 else _node("AND", Items=conditions)


def _with_currencies(node: dict[str, Any], codes: list[str]) -> dict[str, Any]:
    node = copy.deepcopy(node)
    if node.get("CheckFunction") in ("CheckNationalCurrency", "FormatCurrency"):
        node["x_AllowedValues"] = codes
    if "Items" in node:
        node["Items"] = [_with_currencies(item, codes) for item in node["Items"]]
    return node


def _column(rule: dict[str, Any]) -> str:
    requirement = rule["ValidationCriteria"].get("Requirement") or {}
    return str(requirement.get("ColumnName") or rule.get("EntityId") or "")


def classify(model: dict[str, Any]) -> list[RuleEntry]:
    """One entry per MUST / MUST NOT rule of the Cost and Usage dataset (Removed rules excluded)."""
    rules: dict[str, dict[str, Any]] = model["ModelRules"]
    codes = national_currency_codes()
    context: dict[str, tuple[list[dict[str, Any]], set[str]]] = {}

    def walk(rule_id: str, conditions: list[dict[str, Any]], criteria: set[str]) -> None:
        rule = rules[rule_id]
        criteria = criteria | set(rule.get("ApplicabilityCriteria") or [])
        if rule_id in context:  # reached twice: keep the first path, merge the criteria
            context[rule_id][1].update(criteria)
            return
        context[rule_id] = (conditions, criteria)
        criteria_ = rule["ValidationCriteria"]
        if rule["Function"] == "Composite":
            own = OVERRIDES.get(rule_id, {}).get("Condition", criteria_.get("Condition"))
            inherited = conditions + ([own] if own else [])
            for child in _child_ids(criteria_["Requirement"]):
                walk(child, inherited, criteria)

    walk(ROOT_RULE, [], set())
    entries = []
    for rule_id, rule in rules.items():
        criteria = rule["ValidationCriteria"]
        if not rule_id.startswith("CAU-") or rule.get("Status") == "Removed":
            continue
        if criteria["Keyword"] not in MUST_KEYWORDS:
            continue
        inherited, applicability = context.get(rule_id, ([], set(rule.get("ApplicabilityCriteria") or [])))
        entry = RuleEntry(
            rule_id=rule_id,
            keyword=criteria["Keyword"],
            function=rule["Function"],
            column=_column(rule),
            rule_type=rule["Type"],
            checkable="no",
            reason="",
            applicability=sorted(applicability),
            must_satisfy=" ".join(str(criteria["MustSatisfy"]).split()),
        )
        requirement = dict(criteria.get("Requirement") or {})
        own_condition = dict(criteria.get("Condition") or {})
        notes = []
        if rule_id in OVERRIDES:
            override = OVERRIDES[rule_id]
            requirement = override.get("Requirement", requirement)
            own_condition = override.get("Condition", own_condition)
            notes.append("override: " + override["note"])
        if rule_id in SUPPLEMENTS:
            requirement = SUPPLEMENTS[rule_id]["Requirement"]
            notes.append("supplement: " + SUPPLEMENTS[rule_id]["note"])
        if rule["Function"] == "Composite":
            entry.checkable = "composite"
            entry.parts = _child_ids(requirement)
            entry.reason = "composite: resolved to its parts " + " ".join(entry.parts)
            entries.append(entry)
            continue
        if not requirement:
            entry.reason = DYNAMIC_REASON
            entries.append(entry)
            continue
        functions = _functions(requirement) | _functions(own_condition)
        unsupported = sorted(functions - ROW_FUNCTIONS - SCHEMA_FUNCTIONS - {"CheckDistinctCount"})
        if unsupported:
            entry.reason = "; ".join(NOT_CHECKABLE.get(f, f"unsupported CheckFunction {f}") for f in unsupported)
            entries.append(entry)
            continue
        top = requirement["CheckFunction"]
        entry.checkable = "yes"
        entry.test_name = test_name(rule_id)
        entry.requirement = _with_currencies(requirement, codes)
        entry.condition = (
            _with_currencies(_and([*inherited, own_condition]), codes) if inherited or own_condition else {}
        )
        if top in SCHEMA_FUNCTIONS:
            entry.test_kind = "focus_rule_schema"
            entry.condition = {}  # presence and type hold for the whole table
        elif top == "CheckDistinctCount":
            entry.test_kind = "focus_rule_distinct_count"
        else:
            entry.test_kind = "focus_rule_rows"
        entry.reason = "; ".join(notes)
        entries.append(entry)
    return sorted(entries, key=lambda e: e.rule_id)


GENERATED_HEADER = """\
# GENERATED by `python run.py conformance generate` from orchestrator/focus_model/model-1.3.json
# (FOCUS 1.3 requirements model, CC BY 4.0, FinOps Foundation). Do not edit: regenerate.
# One dbt test per MUST / MUST NOT rule of the Cost and Usage dataset that can be checked on data;
# the others are listed with the reason in focus_conformance_rules.csv (tests/test_conformance.py
# checks both files are up to date and that no rule is left out).
"""


def render_yaml(entries: Iterable[RuleEntry]) -> str:
    tests = []
    for entry in entries:
        if entry.checkable != "yes":
            continue
        arguments: dict[str, Any] = {"rule_id": entry.rule_id, "requirement": entry.requirement}
        if entry.condition:
            arguments["condition"] = entry.condition
        if entry.applicability:
            arguments["applicability"] = entry.applicability
        meta = {"rule_id": entry.rule_id, "keyword": entry.keyword, "column": entry.column}
        config: dict[str, Any] = {"meta": meta}
        if entry.rule_id in KNOWN_DEVIATIONS:
            meta["known_deviation"] = KNOWN_DEVIATIONS[entry.rule_id]
            config["severity"] = "warn"
        tests.append({entry.test_kind: {"name": entry.test_name, "arguments": arguments, "config": config}})
    document = {
        "version": 2,
        "models": [
            {
                "name": SUBJECT_MODEL,
                "description": (
                    "One row per FOCUS charge row of cost_data_standard_1_3 (a view over it), built only by "
                    "`run.py conformance ORG` (var focus_conformance); carries the generated conformance tests."
                ),
                "data_tests": tests,
            }
        ],
    }
    return GENERATED_HEADER + yaml.safe_dump(document, sort_keys=False, width=1000, allow_unicode=False)


CSV_FIELDS = ["rule_id", "keyword", "function", "column", "type", "checkable", "dbt_test", "applicability", "reason"]


def render_csv(entries: Iterable[RuleEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for e in entries:
        row = [e.rule_id, e.keyword, e.function, e.column, e.rule_type, e.checkable, e.test_name]
        writer.writerow([*row, " ".join(e.applicability), e.reason])
    return out.getvalue()


def generated_files(model_path: Path = MODEL_PATH) -> dict[Path, str]:
    entries = classify(load_model(model_path))
    return {YAML_PATH: render_yaml(entries), CSV_PATH: render_csv(entries)}


def generate(model_path: Path = MODEL_PATH) -> dict[str, int]:
    """Write the generated YAML and CSV; return the counts."""
    for path, text in generated_files(model_path).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return counts(classify(load_model(model_path)))


def counts(entries: list[RuleEntry]) -> dict[str, int]:
    return {
        "must_rules": len(entries),
        "checkable": sum(e.checkable == "yes" for e in entries),
        "composite": sum(e.checkable == "composite" for e in entries),
        "not_checkable": sum(e.checkable == "no" for e in entries),
    }


# --- running the generated tests ---------------------------------------------------------------


@dataclass
class RuleResult:
    rule_id: str
    keyword: str
    column: str
    status: str  # pass | fail | error | known-deviation | not-applicable | not-checkable
    failing_rows: int | None
    detail: str = ""


@dataclass
class ConformanceReport:
    org_slug: str
    target: str
    results: list[RuleResult]

    def failed(self, strict: bool = False) -> list[RuleResult]:
        """Leaf MUST rules that failed (with strict, known deviations too); composites are derived."""
        bad = ("fail", "error", "known-deviation") if strict else ("fail", "error")
        return [r for r in self.results if r.status in bad and r.detail != "composite"]

    def summary(self) -> dict[str, int]:
        summary: dict[str, int] = {}
        for result in self.results:
            summary[result.status] = summary.get(result.status, 0) + 1
        return dict(sorted(summary.items()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "org_slug": self.org_slug,
            "target": self.target,
            "summary": self.summary(),
            "rules": [asdict(r) for r in self.results],
        }


def declared_criteria(project_dir: Path = PROJECT_DIR) -> list[str]:
    """ApplicabilityCriteria declared in dbt_project.yml (var focus_applicability_criteria)."""
    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text(encoding="utf-8"))
    return list((project.get("vars") or {}).get("focus_applicability_criteria") or [])


def _test_outcomes(target_path: Path) -> dict[str, tuple[str, int | None, str]]:
    """rule_id -> (dbt status, failures, message) from the run's manifest and run_results."""
    manifest = json.loads((target_path / "manifest.json").read_text(encoding="utf-8"))
    run_results = json.loads((target_path / "run_results.json").read_text(encoding="utf-8"))
    rule_of = {
        uid: node["config"]["meta"]["rule_id"]
        for uid, node in manifest["nodes"].items()
        if node.get("resource_type") == "test" and "rule_id" in (node.get("config", {}).get("meta") or {})
    }
    outcomes = {}
    for result in run_results.get("results", []):
        rule_id = rule_of.get(result.get("unique_id", ""))
        if rule_id:
            message = " ".join(str(result.get("message") or "").split())
            outcomes[rule_id] = (str(result.get("status")), result.get("failures"), message)
    return outcomes


def build_report(
    entries: list[RuleEntry],
    outcomes: dict[str, tuple[str, int | None, str]],
    criteria: list[str],
    org: str,
    target: str,
) -> ConformanceReport:
    by_id = {e.rule_id: e for e in entries}
    status: dict[str, RuleResult] = {}
    for entry in entries:
        if entry.checkable == "no":
            status[entry.rule_id] = RuleResult(
                entry.rule_id, entry.keyword, entry.column, "not-checkable", None, entry.reason
            )
        elif entry.checkable == "yes":
            missing = [c for c in entry.applicability if c not in criteria]
            if missing:
                detail = "ApplicabilityCriteria not declared: " + ", ".join(missing)
                status[entry.rule_id] = RuleResult(
                    entry.rule_id, entry.keyword, entry.column, "not-applicable", 0, detail
                )
                continue
            dbt_status, failures, message = outcomes.get(entry.rule_id, ("not run", None, "test did not run"))
            mapped = {"pass": "pass", "fail": "fail", "warn": "fail"}.get(dbt_status, "error")
            detail = "" if mapped == "pass" else message
            if mapped == "fail" and entry.rule_id in KNOWN_DEVIATIONS:
                mapped, detail = "known-deviation", KNOWN_DEVIATIONS[entry.rule_id]
            status[entry.rule_id] = RuleResult(entry.rule_id, entry.keyword, entry.column, mapped, failures, detail)

    def derive(rule_id: str, seen: frozenset[str] = frozenset()) -> str:
        if rule_id in status:
            return status[rule_id].status
        entry = by_id.get(rule_id)
        if entry is None or entry.checkable != "composite" or rule_id in seen:
            return "not-checkable"  # SHOULD / MAY parts and attribute rules are not run
        parts = {derive(part, seen | {rule_id}) for part in entry.parts}
        for outcome in ("error", "fail", "known-deviation", "pass", "not-applicable"):
            if outcome in parts:
                return outcome
        return "not-checkable"

    results = []
    for entry in entries:
        if entry.checkable == "composite":
            outcome = derive(entry.rule_id)
            results.append(RuleResult(entry.rule_id, entry.keyword, entry.column, outcome, None, "composite"))
        else:
            results.append(status[entry.rule_id])
    return ConformanceReport(org, target, results)


def run_conformance(
    settings: Settings,
    org: str,
    *,
    target: str = "local",
    criteria: list[str] | None = None,
    timeout_seconds: float = 900,
) -> ConformanceReport:
    """Run the generated tests against ORG's cost_data_standard_1_3; never raises for failing rules."""
    from focusline.bigquery import org_dataset
    from focusline.warehouse import warehouse_lock
    from orchestrator.dbt_step import run_dbt

    org = validate_org_slug(org)
    criteria = declared_criteria(settings.project_dir) if criteria is None else criteria
    dbt_vars = {"focus_conformance": True, "focus_applicability_criteria": criteria}
    args = ["build", "--select", SUBJECT_MODEL, "--vars", json.dumps(dbt_vars)]
    work_dir = settings.state_dir / "conformance" / uuid.uuid4().hex
    limits: dict[str, Any] = {"deadline": time.monotonic() + timeout_seconds, "cancel_event": threading.Event()}
    try:
        if target == "local":
            path = settings.warehouse_path(org)
            if not path.exists():
                raise InputDataError(f"no warehouse for {org} at {path}: run a pipeline first", org=org)
            with warehouse_lock(settings, org) as locked:
                run_dbt(settings, args, target=target, work_dir=work_dir, warehouse_path=locked, **limits)
        else:
            run_dbt(
                settings,
                args,
                target=target,
                work_dir=work_dir,
                warehouse_path=None,
                dataset=org_dataset(org),
                **limits,
            )
    except TerminalError as exc:
        if not (work_dir / "target" / "run_results.json").exists():
            raise
        logger.debug("conformance tests reported failures: %s", exc)
    target_path = work_dir / "target"
    outcomes = _test_outcomes(target_path)
    results = json.loads((target_path / "run_results.json").read_text(encoding="utf-8")).get("results", [])
    view_errors = [r for r in results if r.get("unique_id", "").startswith("model.") and r.get("status") == "error"]
    if view_errors:
        raise TerminalError(f"conformance subject view failed for {org}: {view_errors[0].get('message')}", org=org)
    return build_report(classify(load_model()), outcomes, criteria, org, target)


def print_report(report: ConformanceReport, as_json: bool) -> None:
    """One line per MUST rule (rule id, keyword, column, status, failing rows), then a summary line."""
    import click

    from orchestrator.report import table

    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, sort_keys=True))
        return
    rows = [
        {
            "rule_id": r.rule_id,
            "keyword": r.keyword,
            "column": r.column,
            "status": r.status,
            "failing_rows": r.failing_rows,
            "detail": r.detail[:120],
        }
        for r in report.results
    ]
    table(rows)
    click.echo("")
    click.echo(f"{report.org_slug} ({report.target}): " + ", ".join(f"{k} {v}" for k, v in report.summary().items()))
