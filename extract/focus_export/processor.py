"""``ps_type: focus.export``: provider-native FOCUS export files -> ``raw_focus_export``, one billing period at a time.

AWS (Data Exports FOCUS 1.0 / 1.2), Azure (FocusCost 1.0 to 1.2), GCP and OCI restate the open
billing period like their native exports do, so the files of ``uri`` are read together and loaded
per billing period with export versions (``extract.billing_export``: a late, older export never
overwrites a newer one). The default load key is the files' single BillingAccountId; a file set with
several billing accounts (e.g. the multi-provider official FOCUS sample) needs ``credential_id``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from extract.billing_export import ExportSourceConfig, load_billing_periods
from extract.files import list_files
from extract.focus_export.reader import read_focus_files
from extract.focus_export.schema import RAW_FOCUS_EXPORT
from focusline.steps import StepContext, StepResult

PS_TYPE = "focus.export"


class FocusExportConfig(ExportSourceConfig):
    """``config`` of a ``focus.export`` step."""

    focus_version: Literal["0.5", "1.0-preview", "1.0", "1.1", "1.2", "1.3"] | None = Field(
        default=None, description="FOCUS version of the files; default: detected per file from its columns"
    )
    provider: str | None = Field(
        default=None,
        description="provider slug (aws, azure, gcp, oci, ...) for rows whose ProviderName is not a known cloud",
    )

    @field_validator("provider")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z][a-z0-9_]{0,30}", value):
            raise ValueError("provider must be a lower-case slug such as aws, azure, gcp, oci")
        return value


@dataclass(frozen=True)
class FocusExportProcessor:
    config_model: type[BaseModel] = field(default=FocusExportConfig, init=False)

    def run(self, ctx: StepContext, config: BaseModel) -> StepResult:
        if not isinstance(config, FocusExportConfig):
            raise TypeError(f"expected FocusExportConfig, got {type(config).__name__}")
        files = list_files(config.uri)
        ctx.check_alive()
        batch = read_focus_files(files, focus_version=config.focus_version, provider=config.provider)
        try:
            return load_billing_periods(
                ctx, config, batch, RAW_FOCUS_EXPORT, source_name="focus export", default_credential="focus_default"
            )
        finally:
            batch.close()


FOCUS_EXPORT_PROCESSOR = FocusExportProcessor()
