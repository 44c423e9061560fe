"""Demo CUR 2.0 (Data Exports) Parquet files of a realistic shape, for tests and a later benchmark.

``write_cur2_parquet`` writes one billing period: hourly EC2/S3/Lambda usage over a few accounts,
a savings plan (covered usage + negation + recurring fee), an RI (discounted usage + RI fee), tags
in the ``resource_tags`` MAP, product attributes in the ``product`` MAP, and one tax row per
product. Money columns are DOUBLE, as AWS writes them; values are deterministic for a seed.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
import zlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

PAYER = "111122223333"
ACCOUNTS = ("111122223333", "444455556666", "777788889999")
SP_ARN = "arn:aws:savingsplans::111122223333:savingsplan/demo-sp-1"
RI_ARN = "arn:aws:ec2:us-east-1:111122223333:reserved-instances/demo-ri-1"
_PRODUCTS = (
    ("AmazonEC2", "Amazon Elastic Compute Cloud", "BoxUsage:m5.large", "RunInstances", "Hrs", 0.096),
    ("AmazonS3", "Amazon Simple Storage Service", "TimedStorage-ByteHrs", "StandardStorage", "GB-Mo", 0.023),
    ("AWSLambda", "AWS Lambda", "Lambda-GB-Second", "Invoke", "Lambda-GB-Second", 0.0000166667),
)
_MAP = pa.map_(pa.string(), pa.string())


def _row(**values: Any) -> dict[str, Any]:
    return values


def cur2_rows(period: dt.date, *, days: int | None = None, hours: int = 24, seed: int = 7) -> list[dict[str, Any]]:
    """The rows of one billing period (``days`` limits the days written; default the whole month)."""
    rng = random.Random(seed)
    last = calendar.monthrange(period.year, period.month)[1]
    period_start = dt.datetime.combine(period, dt.time(), tzinfo=dt.UTC)
    period_end = period_start + dt.timedelta(days=last)
    common = {
        "bill_billing_period_start_date": period_start,
        "bill_billing_period_end_date": period_end,
        "bill_payer_account_id": PAYER,
        "bill_invoice_id": None,
        "bill_billing_entity": "AWS",
        "bill_invoicing_entity": "Amazon Web Services, Inc.",
        "line_item_currency_code": "USD",
        "line_item_legal_entity": "Amazon Web Services, Inc.",
    }
    rows: list[dict[str, Any]] = []
    totals: dict[str, float] = {}
    for day in range(days or last):
        for hour in range(hours):
            start = period_start + dt.timedelta(days=day, hours=hour)
            for code, name, usage_type, operation, unit, rate in _PRODUCTS:
                account = ACCOUNTS[rng.randrange(len(ACCOUNTS))]
                amount = round(rng.uniform(0.5, 4.0), 6)
                cost = round(amount * rate, 10)
                kind = "Usage"
                if code == "AmazonEC2" and hour % 3 == 0:
                    kind = "SavingsPlanCoveredUsage"
                elif code == "AmazonEC2" and hour % 3 == 1:
                    kind = "DiscountedUsage"
                base = {
                    **common,
                    "identity_line_item_id": f"{seed}-{day}-{hour}-{code}",
                    "identity_time_interval": (
                        f"{start:%Y-%m-%dT%H:%M:%SZ}/{start + dt.timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"
                    ),
                    "bill_bill_type": "Anniversary",
                    "line_item_usage_account_id": account,
                    "line_item_usage_start_date": start,
                    "line_item_usage_end_date": start + dt.timedelta(hours=1),
                    "line_item_product_code": code,
                    "line_item_usage_type": usage_type,
                    "line_item_operation": operation,
                    "line_item_usage_amount": amount,
                    "line_item_unblended_rate": rate,
                    "line_item_unblended_cost": 0.0 if kind == "DiscountedUsage" else cost,
                    "line_item_line_item_type": kind,
                    "line_item_line_item_description": f"{name} {usage_type}",
                    "line_item_resource_id": f"i-{rng.randrange(16**8):08x}" if code == "AmazonEC2" else None,
                    "line_item_availability_zone": "us-east-1a" if code == "AmazonEC2" else None,
                    "pricing_public_on_demand_cost": cost,
                    "pricing_public_on_demand_rate": rate,
                    "pricing_unit": unit,
                    "pricing_term": "OnDemand" if kind == "Usage" else "Reserved",
                    "product_region_code": "us-east-1",
                    "product_location": "US East (N. Virginia)",
                    "product_sku": f"SKU{zlib.crc32(usage_type.encode()) % 10**8:08d}",
                    "product_servicecode": code,
                    "product": {"product_name": name, "region": "us-east-1"},
                    "resource_tags": {"user_team": rng.choice(("data", "web", "ml")), "user_env": "prod"},
                    "savings_plan_savings_plan_a_r_n": SP_ARN if kind == "SavingsPlanCoveredUsage" else None,
                    "savings_plan_savings_plan_effective_cost": round(cost * 0.72, 10)
                    if kind == "SavingsPlanCoveredUsage"
                    else None,
                    "reservation_reservation_a_r_n": RI_ARN if kind == "DiscountedUsage" else None,
                    "reservation_effective_cost": round(cost * 0.6, 10) if kind == "DiscountedUsage" else None,
                }
                rows.append(base)
                if kind == "SavingsPlanCoveredUsage":
                    rows.append(
                        {
                            **base,
                            "identity_line_item_id": base["identity_line_item_id"] + "-neg",
                            "line_item_line_item_type": "SavingsPlanNegation",
                            "line_item_unblended_cost": -cost,
                            "pricing_public_on_demand_cost": 0.0,
                            "savings_plan_savings_plan_effective_cost": None,
                        }
                    )
                totals[code] = totals.get(code, 0.0) + (0.0 if kind == "DiscountedUsage" else cost)
            rows.append(
                _row(
                    **common,
                    identity_line_item_id=f"{seed}-{day}-{hour}-spfee",
                    bill_bill_type="Anniversary",
                    line_item_usage_account_id=PAYER,
                    line_item_usage_start_date=start,
                    line_item_usage_end_date=start + dt.timedelta(hours=1),
                    line_item_product_code="ComputeSavingsPlans",
                    line_item_usage_type="ComputeSP:1yrNoUpfront",
                    line_item_line_item_type="SavingsPlanRecurringFee",
                    line_item_unblended_cost=0.05,
                    line_item_line_item_description="1 year No Upfront Compute Savings Plan",
                    savings_plan_savings_plan_a_r_n=SP_ARN,
                    savings_plan_total_commitment_to_date=0.05,
                    savings_plan_used_commitment=0.04,
                    product={"product_name": "Savings Plans for AWS Compute usage"},
                )
            )
    for code, total in totals.items():
        rows.append(
            _row(
                **common,
                identity_line_item_id=f"{seed}-tax-{code}",
                bill_bill_type="Anniversary",
                line_item_usage_account_id=PAYER,
                line_item_usage_start_date=period_start,
                line_item_usage_end_date=period_end,
                line_item_product_code=code,
                line_item_line_item_type="Tax",
                line_item_tax_type="VAT",
                line_item_unblended_cost=round(total * 0.2, 10),
                line_item_line_item_description="Tax",
            )
        )
    return rows


def write_cur2_parquet(path: Path, period: dt.date, *, days: int | None = None, hours: int = 24, seed: int = 7) -> Path:
    """Write one billing period of CUR 2.0 rows to ``path`` (Parquet, MAP columns, DOUBLE money)."""
    rows = cur2_rows(period, days=days, hours=hours, seed=seed)
    names = sorted({key for row in rows for key in row})
    fields = []
    for name in names:
        sample = next((row[name] for row in rows if row.get(name) is not None), None)
        if name in ("product", "resource_tags"):
            kind: pa.DataType = _MAP
        elif isinstance(sample, dt.datetime):
            kind = pa.timestamp("ms", tz="UTC")
        elif isinstance(sample, float):
            kind = pa.float64()
        else:
            kind = pa.string()
        fields.append(pa.field(name, kind))
    schema = pa.schema(fields)
    columns = {}
    for field in schema:
        values = [row.get(field.name) for row in rows]
        if field.type == _MAP:
            values = [list(v.items()) if v else None for v in values]
        columns[field.name] = pa.array(values, type=field.type)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns, schema=schema), path)
    return path


def expected_unblended(rows: list[dict[str, Any]]) -> Decimal:
    """Sum of line_item_unblended_cost as the Parquet file holds it (shortest repr of each double)."""
    return sum((Decimal(repr(r["line_item_unblended_cost"])) for r in rows), Decimal(0))
