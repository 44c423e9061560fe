"""``ps_type: azure.cost_details``: Azure cost details exports -> ``raw_azure_cost``, one billing period at a time.

Azure restates the open month (and the previous one until it closes) on every export run, and a
month-to-date export overwrites the previous day's file: the files of ``uri`` are read together and
loaded per billing period with export versions, as every billing export is
(``extract.billing_export``: a late, older export never overwrites a newer one).

Actual and amortized exports of one account are two datasets that restate independently, so each
has its own load key: the billing account (EA BillingAccountId, MCA billingAccountId, else the
subscription; or ``credential_id``) for actual rows, the same with ``:amortized`` appended for
amortized rows. Both can be loaded side by side; the FOCUS model combines them without double
counting (int_azure_cost__charges_mapped_to_focus).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from extract.azure_cost.reader import ACCOUNT_SQL, DATASETS, ROWS_TABLE, read_azure_files
from extract.azure_cost.schema import RAW_AZURE_COST
from extract.billing_export import ExportBatch, ExportSourceConfig, load_billing_periods
from extract.files import list_files
from focusline.steps import StepContext, StepResult

PS_TYPE = "azure.cost_details"
AMORTIZED_SUFFIX = ":amortized"


class AzureCostConfig(ExportSourceConfig):
    """``config`` of an ``azure.cost_details`` step."""

    dataset: Literal["actual", "amortized"] | None = Field(
        default=None, description="the export's dataset for every file; default: detected per file"
    )


def _merge(results: dict[str, StepResult]) -> StepResult:
    """One step result of the per-dataset loads (lists concatenated, per-dataset detail kept)."""
    detail: dict[str, Any] = {"datasets": {}}
    for name, result in results.items():
        detail["datasets"][name] = result.detail
        for key, value in result.detail.items():
            if isinstance(value, list):
                detail.setdefault(key, []).extend(value)
            elif key == "files":
                detail["files"] = detail.get("files", 0) + value
            elif key == "credential_id":
                detail.setdefault("credential_ids", []).append(value)
    return StepResult(rows=sum(r.rows for r in results.values()), detail=detail)


@dataclass(frozen=True)
class AzureCostProcessor:
    config_model: type[BaseModel] = field(default=AzureCostConfig, init=False)

    def run(self, ctx: StepContext, config: BaseModel) -> StepResult:
        if not isinstance(config, AzureCostConfig):
            raise TypeError(f"expected AzureCostConfig, got {type(config).__name__}")
        files = list_files(config.uri)
        ctx.check_alive()
        batch = read_azure_files(files, dataset=config.dataset)
        try:
            conn = batch.conn
            present = {r[0] for r in conn.execute(f"select distinct x_cost_dataset from {ROWS_TABLE}").fetchall()}
            datasets = [d for d in DATASETS if d in present]
            results: dict[str, StepResult] = {}
            for dataset in datasets or ["actual"]:
                ctx.check_alive()
                view = f"{ROWS_TABLE}_{dataset}"
                # dataset is one of DATASETS (a literal of the reader), never file content
                conn.execute(
                    f"create or replace temp view {view} as "
                    f"select * from {ROWS_TABLE} where x_cost_dataset = '{dataset}'"
                )
                suffix = AMORTIZED_SUFFIX if dataset == "amortized" else ""
                part = ExportBatch(
                    conn,
                    view,
                    account_sql=f"({ACCOUNT_SQL} || '{suffix}')",
                    period_end_sql=batch.period_end_sql,
                    files=[f for f in batch.files if batch.formats[f.uri].endswith(f":{dataset}")] or batch.files,
                    formats={u: f for u, f in batch.formats.items() if f.endswith(f":{dataset}")} or batch.formats,
                )
                part_config = config
                if config.credential_id and suffix:
                    part_config = config.model_copy(update={"credential_id": config.credential_id + suffix})
                results[dataset] = load_billing_periods(
                    ctx,
                    part_config,
                    part,
                    RAW_AZURE_COST,
                    source_name="azure cost details",
                    default_credential="azure_cost_default" + suffix,
                )
            return _merge(results)
        finally:
            batch.close()


AZURE_COST_PROCESSOR = AzureCostProcessor()
