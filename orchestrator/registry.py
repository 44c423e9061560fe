"""The explicit registry of processors: ``ps_type`` -> processor. Never imports by name from a file."""

from __future__ import annotations

from collections.abc import Mapping

from focusline.steps import Processor


class Registry:
    def __init__(self, processors: Mapping[str, Processor]) -> None:
        self._processors = dict(processors)

    def get(self, ps_type: str) -> Processor | None:
        return self._processors.get(ps_type)

    def names(self) -> list[str]:
        return sorted(self._processors)

    def with_processors(self, extra: Mapping[str, Processor]) -> Registry:
        """A new registry with more processors (e.g. an integration's own step types)."""
        return Registry({**self._processors, **extra})


def default_registry() -> Registry:
    """Every built-in ps_type. Imported lazily so `pipelines list` stays fast."""
    from extract.aws_cur.processor import AWS_CUR_PROCESSOR
    from extract.azure_cost.processor import AZURE_COST_PROCESSOR
    from extract.focus_export.processor import FOCUS_EXPORT_PROCESSOR
    from extract.gcp_billing.processor import GCP_BILLING_EXPORT_PROCESSOR
    from extract.oci_cost.processor import OCI_COST_REPORT_PROCESSOR
    from extract.openai.processors import BILLED_COST_PROCESSOR, USAGE_PROCESSOR
    from orchestrator.dbt_step import DBT_BUILD_PROCESSOR

    return Registry(
        {
            "genai.payg_usage": USAGE_PROCESSOR,
            "genai.payg_billed_cost": BILLED_COST_PROCESSOR,
            "aws.cur": AWS_CUR_PROCESSOR,
            "azure.cost_details": AZURE_COST_PROCESSOR,
            "focus.export": FOCUS_EXPORT_PROCESSOR,
            "gcp.billing_export": GCP_BILLING_EXPORT_PROCESSOR,
            "oci.cost_report": OCI_COST_REPORT_PROCESSOR,
            "dbt.build": DBT_BUILD_PROCESSOR,
        }
    )
