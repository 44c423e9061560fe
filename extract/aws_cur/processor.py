"""``ps_type: aws.cur``: AWS Cost and Usage Report files -> ``raw_aws_cur``, one billing period at a time.

CUR rewrites the whole month on every delivery: the files of ``uri`` are read together (an export
splits a period over several files) and loaded per billing period with export versions, as every
billing export is (``extract.billing_export``: a late, older export never overwrites a newer one).
The default load key is the files' single payer account.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from extract.aws_cur.reader import read_cur_files
from extract.aws_cur.schema import RAW_AWS_CUR
from extract.billing_export import ExportSourceConfig, load_billing_periods
from extract.files import list_files
from focusline.steps import StepContext, StepResult

PS_TYPE = "aws.cur"


class AwsCurConfig(ExportSourceConfig):
    """``config`` of an ``aws.cur`` step."""


@dataclass(frozen=True)
class AwsCurProcessor:
    config_model: type[BaseModel] = field(default=AwsCurConfig, init=False)

    def run(self, ctx: StepContext, config: BaseModel) -> StepResult:
        if not isinstance(config, AwsCurConfig):
            raise TypeError(f"expected AwsCurConfig, got {type(config).__name__}")
        files = list_files(config.uri)
        ctx.check_alive()
        batch = read_cur_files(files)
        try:
            return load_billing_periods(
                ctx, config, batch, RAW_AWS_CUR, source_name="aws cur", default_credential="aws_cur_default"
            )
        finally:
            batch.close()


AWS_CUR_PROCESSOR = AwsCurProcessor()
