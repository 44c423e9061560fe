"""``ps_type: oci.cost_report``: OCI cost report CSVs -> ``raw_oci_cost``, one billing period at a time.

OCI writes a new, append-only report file every six hours (reports/cost-csv/ in the tenancy's
``bling`` bucket); corrections come as new rows. A billing period (calendar month of
``lineItem/intervalUsageStart``; OCI invoices monthly) is therefore the union of all its files, and
``uri`` must reach every file of the periods to load (the local mirror of reports/cost-csv/): each
billing period the files cover is replaced whole, with export versions, as every billing export is
(``extract.billing_export``: the period's version is its newest file's modified time, so a new
file reloads the month; a late, older copy never overwrites a newer load). The load key is the
files' single tenant (``lineItem/tenantId``) unless ``credential_id`` is set.

Deprecated usage reports (reports/usage-csv/, no cost columns) load too, as zero-cost rows marked
``x_source_format = 'usage_report'`` (FOCUS: x_CostSource ``unpriced``), unless cost reports of the
same tenant and period are in the load or already loaded: those carry the same usage with its cost.
Their currency (FOCUS BillingCurrency is mandatory) is the config's ``currency``, else the tenant's
own currency in its cost reports (this load's or loaded before, any load key of the organisation).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from extract.billing_export import ExportSourceConfig, load_billing_periods
from extract.files import list_files
from extract.load import query_raw
from extract.oci_cost.reader import ROWS, read_oci_files, settle_batch
from extract.oci_cost.schema import COST_REPORT, RAW_OCI_COST, USAGE_REPORT
from focusline.steps import StepContext, StepResult

PS_TYPE = "oci.cost_report"
DEFAULT_CREDENTIAL = "oci_cost_default"


class OciCostReportConfig(ExportSourceConfig):
    """``config`` of an ``oci.cost_report`` step."""

    currency: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{3}$",
        description="the tenant's billing currency, for rows that state none (usage reports); "
        "default: the tenant's currency in the cost reports of the same load",
    )


def _load_key(config: OciCostReportConfig, tenants: list[str]) -> str | None:
    """The credential the loader will use (its rule: the config's, else the single tenant), None if unknown."""
    if config.credential_id:
        return config.credential_id
    if len(tenants) != 1:
        return None
    return re.sub(r"[^A-Za-z0-9_.:-]", "_", tenants[0])[:100]


@dataclass(frozen=True)
class OciCostReportProcessor:
    config_model: type[BaseModel] = field(default=OciCostReportConfig, init=False)

    def run(self, ctx: StepContext, config: BaseModel) -> StepResult:
        if not isinstance(config, OciCostReportConfig):
            raise TypeError(f"expected OciCostReportConfig, got {type(config).__name__}")
        files = list_files(config.uri)
        ctx.check_alive()
        batch = read_oci_files(files)
        try:
            tenants = [r[0] for r in batch.conn.execute(f"select distinct line_item_tenant_id from {ROWS}").fetchall()]
            usage_rows, no_currency = batch.conn.execute(
                f"select count(*) filter (x_source_format = '{USAGE_REPORT}'), "
                f"count(*) filter (cost_currency_code is null) from {ROWS}"
            ).fetchone()
            # the raw table is asked only when the files need it (a query costs on BigQuery)
            key = _load_key(config, tenants)
            cost_periods: list[dt.date] = []
            if key is not None and usage_rows:
                cost_periods = [
                    row[0]
                    for row in query_raw(
                        ctx.settings,
                        RAW_OCI_COST,
                        ctx.org_slug,
                        "select distinct billing_period from {table} where x_org_slug = ? and x_pipeline_id = ? "
                        "and x_credential_id = ? and x_source_format = ?",
                        [ctx.org_slug, ctx.pipeline_id, key, COST_REPORT],
                        target=ctx.target,
                    )
                ]
            loaded_currencies: list[tuple[str, str]] = []
            if config.currency is None and no_currency:
                marks = ", ".join("?" for _ in tenants)
                loaded_currencies = [
                    (row[0], row[1])
                    for row in query_raw(
                        ctx.settings,
                        RAW_OCI_COST,
                        ctx.org_slug,
                        "select distinct line_item_tenant_id, cost_currency_code from {table} where x_org_slug = ? "
                        f"and cost_currency_code is not null and line_item_tenant_id in ({marks})",
                        [ctx.org_slug, *tenants],
                        target=ctx.target,
                    )
                ]
            settled = settle_batch(
                batch, currency=config.currency, cost_periods_loaded=cost_periods, loaded_currencies=loaded_currencies
            )
            ctx.check_alive()
            result = load_billing_periods(
                ctx, config, batch, RAW_OCI_COST, source_name="oci cost report", default_credential=DEFAULT_CREDENTIAL
            )
            result.detail.update(settled)
            return result
        finally:
            batch.close()


OCI_COST_REPORT_PROCESSOR = OciCostReportProcessor()
