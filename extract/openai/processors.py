"""Processors (``ps_type``) for OpenAI: ``genai.payg_usage`` and ``genai.payg_billed_cost``.

Each run fetches every page of every endpoint first and loads only then, in one ``replace_rows``
transaction per raw table: a failure anywhere (auth, a 5xx that outlasts the retries, a malformed
page) writes nothing, and the previous load of those days stays as it was.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from extract.http import RetryPolicy
from extract.load import Lineage, replace_rows
from extract.openai.client import OpenAIAdminClient
from extract.openai.schemas import RAW_OPENAI_COSTS, RAW_OPENAI_USAGE
from focusline.errors import TerminalError
from focusline.steps import StepContext, StepResult

logger = logging.getLogger(__name__)

PROVIDER = "openai"
USAGE_PS_TYPE = "genai.payg_usage"
BILLED_COST_PS_TYPE = "genai.payg_billed_cost"


class OpenAIUsageConfig(BaseModel):
    """``config`` of a ``genai.payg_usage`` step for OpenAI."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["openai"]
    endpoints: list[Literal["completions", "embeddings"]] = Field(
        default_factory=lambda: ["completions", "embeddings"], min_length=1
    )
    credential_id: str | None = None

    @field_validator("endpoints")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        duplicates = sorted({e for e in value if value.count(e) > 1})
        if duplicates:
            raise ValueError(f"endpoints listed more than once: {duplicates}")
        return value


class OpenAIBilledCostConfig(BaseModel):
    """``config`` of a ``genai.payg_billed_cost`` step for OpenAI."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["openai"]
    credential_id: str | None = None


def _admin_client(ctx: StepContext, credential_id: str | None, retry: RetryPolicy) -> tuple[str, OpenAIAdminClient]:
    if ctx.get_credential is None:
        raise TerminalError("no credential store is available to this step", step=ctx.step_id, source=PROVIDER)
    resolved_id, secret = ctx.get_credential(PROVIDER, credential_id)
    if not secret.startswith("sk-admin-"):
        logger.warning(
            "OpenAI credential %r does not look like an admin key (sk-admin-…); the API may reject it",
            resolved_id,
        )
    hint = (
        "usage and cost reports need an organisation admin key (sk-admin-…); set it with "
        f"`python run.py credentials set {ctx.org_slug} openai --credential-id {resolved_id}`"
    )
    client = OpenAIAdminClient(
        ctx.settings.openai_base_url,
        secret,
        timeout_seconds=ctx.settings.http_timeout_seconds,
        retry=retry,
        auth_hint=hint,
    )
    return resolved_id, client


def _lineage(ctx: StepContext, credential_id: str) -> Lineage:
    return Lineage(ctx.org_slug, ctx.pipeline_id, credential_id, ctx.run_id)


@dataclass(frozen=True)
class OpenAIUsageProcessor:
    """``genai.payg_usage`` (provider openai): usage endpoints -> ``raw_openai_usage`` on the step's target."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    config_model: type[BaseModel] = field(default=OpenAIUsageConfig, init=False)

    def run(self, ctx: StepContext, config: BaseModel) -> StepResult:
        if not isinstance(config, OpenAIUsageConfig):
            raise TypeError(f"expected OpenAIUsageConfig, got {type(config).__name__}")
        credential_id, client = _admin_client(ctx, config.credential_id, self.retry)
        rows = []
        detail: dict[str, int] = {"pages": 0}
        with client:
            for endpoint in config.endpoints:
                fetched = client.fetch_usage(endpoint, ctx.start_date, ctx.end_date, ctx)
                rows.extend(fetched.rows)
                detail[endpoint] = len(fetched.rows)
                detail["pages"] += fetched.pages
        ctx.check_alive()
        written = replace_rows(
            ctx.settings, RAW_OPENAI_USAGE, rows, _lineage(ctx, credential_id), ctx.dates(), target=ctx.target
        )
        return StepResult(rows=written, detail=detail)


@dataclass(frozen=True)
class OpenAIBilledCostProcessor:
    """``genai.payg_billed_cost`` (provider openai): the Costs API -> ``raw_openai_costs`` on the step's target."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    config_model: type[BaseModel] = field(default=OpenAIBilledCostConfig, init=False)

    def run(self, ctx: StepContext, config: BaseModel) -> StepResult:
        if not isinstance(config, OpenAIBilledCostConfig):
            raise TypeError(f"expected OpenAIBilledCostConfig, got {type(config).__name__}")
        credential_id, client = _admin_client(ctx, config.credential_id, self.retry)
        with client:
            fetched = client.fetch_costs(ctx.start_date, ctx.end_date, ctx)
        ctx.check_alive()
        written = replace_rows(
            ctx.settings, RAW_OPENAI_COSTS, fetched.rows, _lineage(ctx, credential_id), ctx.dates(), target=ctx.target
        )
        return StepResult(rows=written, detail={"costs": written, "pages": fetched.pages})


USAGE_PROCESSOR = OpenAIUsageProcessor()
BILLED_COST_PROCESSOR = OpenAIBilledCostProcessor()
