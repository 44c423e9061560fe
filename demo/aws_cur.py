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
SP_SKU = "SPCOMPUTE1YRNU"  # the savings plan's own product SKU on its fee rows
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
                    line_item_unblended_rate=0.05,
                    line_item_usage_amount=1.0,  # one hour of the hourly commitment, as CUR states it
                    pricing_unit="Hrs",
                    pricing_public_on_demand_cost=0.05,
                    pricing_public_on_demand_rate=0.05,
                    product_sku=SP_SKU,
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


# -- the vectorised generator (benchmark sizes: 100k .. 10M rows) ------------------------------------------------

# product code, product name, usage type, operation, pricing unit, public rate, weight out of 20
_SCALED_PRODUCTS = (
    ("AmazonEC2", "Amazon Elastic Compute Cloud", "BoxUsage:m5.large", "RunInstances", "Hrs", 0.096, 10),
    ("AmazonS3", "Amazon Simple Storage Service", "TimedStorage-ByteHrs", "StandardStorage", "GB-Mo", 0.023, 3),
    ("AWSLambda", "AWS Lambda", "Lambda-GB-Second", "Invoke", "Lambda-GB-Second", 0.0000166667, 2),
    (
        "AmazonRDS",
        "Amazon Relational Database Service",
        "InstanceUsage:db.r6g.large",
        "CreateDBInstance:0016",
        "Hrs",
        0.225,
        2,
    ),
    ("AmazonCloudWatch", "AmazonCloudWatch", "CW:MetricMonitorUsage", "MetricStorage", "Metrics", 0.3, 1),
    ("AWSDataTransfer", "AWS Data Transfer", "DataTransfer-Out-Bytes", "", "GB", 0.09, 2),
)
_REGIONS = (
    ("us-east-1", "US East (N. Virginia)"),
    ("us-east-1", "US East (N. Virginia)"),
    ("eu-west-1", "EU (Ireland)"),
)
_CUR2_MAPS = ("product", "resource_tags", "cost_category", "discount")


def _sql_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def scaled_rows_per_period(rows: int, first_period: dt.date, periods: int) -> list[tuple[dt.date, int]]:
    """``rows`` split over ``periods`` calendar months from ``first_period``, in proportion to their days."""
    months = []
    period = first_period.replace(day=1)
    for _ in range(periods):
        months.append((period, calendar.monthrange(period.year, period.month)[1]))
        period = (period + dt.timedelta(days=32)).replace(day=1)
    total_days = sum(days for _, days in months)
    out, given = [], 0
    for index, (period, days) in enumerate(months):
        count = rows - given if index == len(months) - 1 else rows * days // total_days
        out.append((period, count))
        given += count
    return out


def _scaled_select(period: dt.date, rows: int, lo: int, hi: int, seed: int, p: int) -> str:
    """The SQL select of rows ``lo``..``hi`` (exclusive) of one billing period of ``rows`` rows."""
    from extract.aws_cur.schema import DECIMAL_COLUMNS, FIXED_COLUMNS, TIMESTAMP_COLUMNS, VARCHAR_COLUMNS

    days = calendar.monthrange(period.year, period.month)[1]
    taxes = len(_SCALED_PRODUCTS)
    usage_rows = max(rows - taxes, 1)
    hours = days * 24
    start = f"timestamptz '{period.isoformat()} 00:00:00+00'"
    end = f"({start} + interval {days} day)"
    buckets: list[int] = []
    for index, product in enumerate(_SCALED_PRODUCTS):
        buckets += [index] * product[6]
    pick = lambda field: _sql_list(tuple(str(p[field]) for p in _SCALED_PRODUCTS))  # noqa: E731
    rates = "[" + ", ".join(repr(p[5]) for p in _SCALED_PRODUCTS) + "]"
    generated = {
        "bill_billing_period_start_date": start,
        "bill_billing_period_end_date": end,
        "bill_payer_account_id": f"'{PAYER}'",
        "bill_bill_type": "'Anniversary'",
        "bill_billing_entity": "'AWS'",
        "bill_invoicing_entity": "'Amazon Web Services, Inc.'",
        "line_item_currency_code": "'USD'",
        "line_item_legal_entity": "'Amazon Web Services, Inc.'",
        "identity_line_item_id": f"'{seed}-{period:%Y%m}-' || i",
        "identity_time_interval": "case when kind = 'Tax' then null else "
        "strftime(usage_start, '%Y-%m-%dT%H:%M:%SZ') || '/' || strftime(usage_end, '%Y-%m-%dT%H:%M:%SZ') end",
        "line_item_usage_account_id": "account",
        "line_item_usage_start_date": "usage_start",
        "line_item_usage_end_date": "usage_end",
        "line_item_product_code": "case when kind = 'SavingsPlanRecurringFee' then 'ComputeSavingsPlans' else code end",
        "line_item_usage_type": "case when kind = 'SavingsPlanRecurringFee' then 'ComputeSP:1yrNoUpfront' "
        "when kind = 'Tax' then null else usage_type end",
        "line_item_operation": "case when kind in ('SavingsPlanRecurringFee', 'Tax') then null else operation end",
        "line_item_usage_amount": "case kind when 'SavingsPlanRecurringFee' then 1.0 when 'Tax' then null "
        "else amount end",
        "line_item_unblended_rate": "case kind when 'SavingsPlanRecurringFee' then 0.05 when 'Tax' then null "
        "else rate end",
        "line_item_unblended_cost": "case kind when 'DiscountedUsage' then 0.0 when 'SavingsPlanNegation' then -cost "
        "when 'SavingsPlanRecurringFee' then 0.05 else cost end",
        "line_item_line_item_type": "kind",
        "line_item_line_item_description": "case kind when 'Tax' then 'Tax' "
        "when 'SavingsPlanRecurringFee' then '1 year No Upfront Compute Savings Plan' "
        "else product_name || ' ' || usage_type end",
        "line_item_tax_type": "case when kind = 'Tax' then 'VAT' end",
        "line_item_resource_id": "case when kind in ('SavingsPlanRecurringFee', 'Tax') then null "
        "when code = 'AmazonEC2' then 'i-' || lpad(format('{:x}', item % 40000), 8, '0') "
        "when code = 'AmazonRDS' then 'arn:aws:rds:' || region || ':' || account || ':db:db-' || item % 300 "
        "when code = 'AmazonS3' then 'bucket-' || item % 2000 "
        "when code = 'AWSLambda' then 'arn:aws:lambda:' || region || ':' || account || ':function:fn-' || item % 5000 "
        "end",
        "line_item_availability_zone": "case when code in ('AmazonEC2', 'AmazonRDS') and kind <> 'Tax' "
        "then region || ['a', 'b', 'c'][item % 3 + 1] end",
        "pricing_public_on_demand_cost": "case kind when 'SavingsPlanNegation' then 0.0 "
        "when 'SavingsPlanRecurringFee' then 0.05 when 'Tax' then null else cost end",
        "pricing_public_on_demand_rate": "case kind when 'SavingsPlanRecurringFee' then 0.05 when 'Tax' then null "
        "else rate end",
        "pricing_unit": "case kind when 'SavingsPlanRecurringFee' then 'Hrs' when 'Tax' then null else unit end",
        "pricing_term": "case when kind = 'Usage' then 'OnDemand' "
        "when kind like '%Usage' or kind = 'SavingsPlanNegation' then 'Reserved' end",
        "pricing_currency": "case when kind not in ('SavingsPlanRecurringFee', 'Tax') then 'USD' end",
        "product_region_code": "case when kind not in ('SavingsPlanRecurringFee', 'Tax') then region end",
        "product_location": "case when kind not in ('SavingsPlanRecurringFee', 'Tax') then location end",
        "product_sku": f"case when kind = 'SavingsPlanRecurringFee' then '{SP_SKU}' when kind <> 'Tax' "
        "then 'SKU' || lpad(cast(hash(usage_type) % 100000000 as varchar), 8, '0') end",
        "product_servicecode": "case when kind <> 'SavingsPlanRecurringFee' then code end",
        "product": "case when kind = 'SavingsPlanRecurringFee' then map(['product_name'], "
        "['Savings Plans for AWS Compute usage']) when kind = 'Tax' then map(['product_name'], [product_name]) "
        "else map(['product_name', 'region'], [product_name, region]) end",
        "resource_tags": "case when kind in ('SavingsPlanRecurringFee', 'Tax') then null else "
        "map(['user_team', 'user_env', 'user_cost_center'], [['data', 'web', 'ml', 'platform'][item % 4 + 1], "
        "['prod', 'dev'][item // 7 % 2 + 1], 'cc-' || item % 40]) end",
        "savings_plan_savings_plan_a_r_n": f"case when kind like 'SavingsPlan%' then '{SP_ARN}' end",
        "savings_plan_savings_plan_effective_cost": "case when kind = 'SavingsPlanCoveredUsage' "
        "then round(cost * 0.72, 10) end",
        "savings_plan_total_commitment_to_date": "case when kind = 'SavingsPlanRecurringFee' then 0.05 end",
        "savings_plan_used_commitment": "case when kind = 'SavingsPlanRecurringFee' then 0.04 end",
        "reservation_reservation_a_r_n": f"case when kind = 'DiscountedUsage' then '{RI_ARN}' end",
        "reservation_effective_cost": "case when kind = 'DiscountedUsage' then round(cost * 0.6, 10) end",
    }
    columns = []
    for name in (*FIXED_COLUMNS, *_CUR2_MAPS):
        if name in generated:
            expression = generated[name]
            if name in DECIMAL_COLUMNS:
                expression = f"cast({expression} as double)"
        elif name in _CUR2_MAPS:
            expression = "cast(null as map(varchar, varchar))"
        elif name in TIMESTAMP_COLUMNS:
            expression = "cast(null as timestamptz)"
        elif name in VARCHAR_COLUMNS:
            expression = "cast(null as varchar)"
        else:
            expression = "cast(null as double)"
        columns.append(f"{expression} as {name}")
    return f"""
with slots as (
    select i, h, i - (h * {usage_rows} + {hours - 1}) // {hours} as j, i >= {usage_rows} as is_tax
    from (select i, least(i * {hours} // {usage_rows}, {hours - 1}) as h from range({lo}, {hi}) r(i))
),
hashed as (
    select *, cast(hash({seed}, {p}, h, j // 2) >> 1 as bigint) as pair,
           cast(hash({seed}, {p}, h, j) >> 1 as bigint) as single
    from slots
),
indexed as (
    select *, [{", ".join(str(b) for b in buckets)}][pair % {len(buckets)} + 1] as product_index
    from hashed
),
kinds as (
    select *,
        case
            when is_tax then 'Tax'
            when j = 0 then 'SavingsPlanRecurringFee'
            when product_index = 0 and j >= 2 and pair // 256 % 3 = 0
                then case when j % 2 = 0 then 'SavingsPlanCoveredUsage' else 'SavingsPlanNegation' end
            when product_index = 0 and single // 256 % 3 = 1 then 'DiscountedUsage'
            else 'Usage'
        end as kind
    from indexed
),
items as (
    select *,
        case when is_tax then (i - {usage_rows}) % {taxes} + 1 else product_index + 1 end as product_slot,
        case when kind like 'SavingsPlan%Usage' or kind = 'SavingsPlanNegation' then pair else single end as item
    from kinds
),
priced as (
    select *,
        {pick(0)}[product_slot] as code,
        {pick(1)}[product_slot] as product_name,
        {pick(2)}[product_slot] as usage_type,
        nullif({pick(3)}[product_slot], '') as operation,
        {pick(4)}[product_slot] as unit,
        {rates}[product_slot] as rate,
        round(0.5 + (item // 65536 % 3500001) / 1000000.0, 6) as amount,
        case when is_tax or kind = 'SavingsPlanRecurringFee' then '{PAYER}'
             else {_sql_list(ACCOUNTS)}[item // 16 % {len(ACCOUNTS)} + 1] end as account,
        {_sql_list(tuple(r[0] for r in _REGIONS))}[item // 1024 % {len(_REGIONS)} + 1] as region,
        {_sql_list(tuple(r[1] for r in _REGIONS))}[item // 1024 % {len(_REGIONS)} + 1] as location,
        case when is_tax then {start} else {start} + to_hours(cast(h as bigint)) end as usage_start,
        case when is_tax then {end} else {start} + to_hours(cast(h + 1 as bigint)) end as usage_end
    from items
),
costed as (
    select *,
        case when is_tax then round({usage_rows} * 0.004 / {taxes}, 2)
             else round(amount * rate, 10) end as cost
    from priced
)
select {", ".join(columns)}
from costed
"""


def write_cur2_parquet_scaled(
    directory: Path,
    rows: int,
    *,
    first_period: dt.date = dt.date(2026, 1, 1),
    periods: int = 3,
    seed: int = 7,
    rows_per_file: int = 2_000_000,
) -> list[Path]:
    """Write ``rows`` CUR 2.0 rows over ``periods`` billing periods, vectorised in DuckDB (no Python row loop).

    The layout of a CUR 2.0 Data Export: ``data/BILLING_PERIOD=YYYY-MM/<name>-NNNNN.snappy.parquet``,
    at most ``rows_per_file`` rows per file; every CUR 2.0 column (the ones a generic account leaves
    empty as typed NULLs), money as DOUBLE, maps as Parquet MAPs. Each hour of a period holds one
    savings plan fee and line items of six services (EC2 with savings-plan covered usage + negation
    pairs and RI discounted usage), with tags; one tax row per service ends each period.
    Deterministic for a seed; 10M rows take about a minute on two cores.
    """
    import duckdb

    paths: list[Path] = []
    conn = duckdb.connect()
    try:
        conn.execute("set TimeZone = 'UTC'")
        for p, (period, count) in enumerate(scaled_rows_per_period(rows, first_period, periods)):
            folder = directory / "data" / f"BILLING_PERIOD={period:%Y-%m}"
            folder.mkdir(parents=True, exist_ok=True)
            for part, lo in enumerate(range(0, count, rows_per_file), start=1):
                path = folder / f"focusline-bench-{part:05d}.snappy.parquet"
                select = _scaled_select(period, count, lo, min(lo + rows_per_file, count), seed, p)
                conn.execute(f"copy ({select}) to '{path}' (format parquet, compression snappy)")
                paths.append(path)
    finally:
        conn.close()
    return paths
