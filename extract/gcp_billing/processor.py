"""``ps_type: gcp.billing_export``: GCP Cloud Billing export files -> ``raw_gcp_billing``, one invoice month at a time.

GCP appends rows to the open invoice months for days and restates through new correction rows, so the unit
of a load is the invoice month (``invoice.month``): the files of ``uri`` are read together and loaded per
billing period with export versions (``extract.billing_export``); the version of a month is its
``max(export_time)`` (config ``version`` overrides), so an older snapshot of a month never overwrites a newer
one. The default load key is the files' single billing account.

``uri`` is a local file, directory or glob of CSV / JSON lines / Parquet files (``gs://`` is accepted but
not available yet). ``bigquery://project.dataset.table`` (the export table itself) is accepted by the
interface and answered with a ConfigError until it is implemented.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from extract.billing_export import ExportSourceConfig, load_billing_periods
from extract.files import list_files
from extract.gcp_billing.reader import read_gcp_files
from extract.gcp_billing.schema import RAW_GCP_BILLING
from focusline.errors import ConfigError
from focusline.steps import StepContext, StepResult

PS_TYPE = "gcp.billing_export"
BIGQUERY_SCHEME = "bigquery://"


class GcpBillingExportConfig(ExportSourceConfig):
    """``config`` of a ``gcp.billing_export`` step."""


@dataclass(frozen=True)
class GcpBillingExportProcessor:
    config_model: type[BaseModel] = field(default=GcpBillingExportConfig, init=False)

    def run(self, ctx: StepContext, config: BaseModel) -> StepResult:
        if not isinstance(config, GcpBillingExportConfig):
            raise TypeError(f"expected GcpBillingExportConfig, got {type(config).__name__}")
        if config.uri.startswith(BIGQUERY_SCHEME):
            raise ConfigError(
                f"reading the billing export table is not available yet ({config.uri}): "
                f"{BIGQUERY_SCHEME}project.dataset.table is accepted by the interface; export the table to "
                "Parquet or JSON lines and point uri at the files",
                field="uri",
            )
        files = list_files(config.uri)
        ctx.check_alive()
        batch = read_gcp_files(files)
        try:
            return load_billing_periods(
                ctx,
                config,
                batch,
                RAW_GCP_BILLING,
                source_name="gcp billing export",
                default_credential="gcp_billing_default",
            )
        finally:
            batch.close()


GCP_BILLING_EXPORT_PROCESSOR = GcpBillingExportProcessor()
