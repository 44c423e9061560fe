"""``ps_type: gcp.billing_export``: GCP Cloud Billing export files -> ``raw_gcp_billing``, one invoice month at a time.

GCP appends rows to the open invoice months for days and restates through new correction rows, so the unit
of a load is the invoice month (``invoice.month``): the files of ``uri`` are read together and loaded per
billing period with export versions (``extract.billing_export``); the version of a month is its
``max(export_time)`` (config ``version`` overrides), so an older snapshot of a month never overwrites a newer
one. The default load key is the files' single billing account.

``uri`` is a local file, directory or glob of CSV / JSON lines / Parquet files (``gs://`` is accepted but
not available yet), or ``bigquery://project.dataset.table``, the export table itself (production): the
invoice months overlapping the run's range are copied from it and read like an exported file
(``table_source``).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from extract.billing_export import ExportSourceConfig, load_billing_periods
from extract.files import FileInfo, list_files
from extract.gcp_billing import table_source
from extract.gcp_billing.reader import read_gcp_files
from extract.gcp_billing.schema import RAW_GCP_BILLING
from focusline.steps import StepContext, StepResult

PS_TYPE = "gcp.billing_export"


class GcpBillingExportConfig(ExportSourceConfig):
    """``config`` of a ``gcp.billing_export`` step."""


@dataclass(frozen=True)
class GcpBillingExportProcessor:
    config_model: type[BaseModel] = field(default=GcpBillingExportConfig, init=False)

    def run(self, ctx: StepContext, config: BaseModel) -> StepResult:
        if not isinstance(config, GcpBillingExportConfig):
            raise TypeError(f"expected GcpBillingExportConfig, got {type(config).__name__}")
        if not config.uri.startswith(table_source.SCHEME):
            return self._load(ctx, config, list_files(config.uri))
        months = table_source.invoice_months(ctx.start_date, ctx.end_date)
        with tempfile.TemporaryDirectory(prefix="focusline-gcp-table-") as work_dir:
            copied = table_source.copy_export_table(config.uri, months, Path(work_dir), ctx.check_alive)
            if copied is None:
                return StepResult(0, {"files": 0, "invoice_months": list(months), "loaded_periods": []})
            return self._load(ctx, config, [copied])

    def _load(self, ctx: StepContext, config: GcpBillingExportConfig, files: list[FileInfo]) -> StepResult:
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
