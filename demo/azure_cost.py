"""Demo Azure cost details exports (actual cost, EA or MCA) of a realistic shape, for tests and benchmarks.

``write_azure_csv(path, rows, seed)`` writes one billing period as Azure Cost Management writes an
actual-cost export: EA PascalCase headers (2024-08-01 schema) or MCA camelCase headers, m/d/Y dates,
EA tags without their braces (MCA with), AdditionalInfo JSON, and among the rows one monthly
reservation purchase, reservation-covered usage at cost 0 (as actual exports state it), spot usage and
on-demand usage of eight meters over three subscriptions. MCA rows are billed in EUR and priced in USD
(exchangeRatePricingToBilling 0.92). Every value is computed in DuckDB with DECIMAL arithmetic and
written by DuckDB's CSV writer: no Python row loop, so 10 million rows take well under a minute.
Deterministic for a seed.
"""

from __future__ import annotations

import calendar
import datetime as dt
from pathlib import Path

import duckdb

BILLING_ACCOUNT = "8611537"
BILLING_PROFILE = "AB12-CD34-EF5-GH6"
MCA_ACCOUNT = "3c100a8a-215e-5a7e-24b2-61aa86945012:6b0a9f1e-2d6b-4a1e-9b55-0f3f2c1d7e01_2019-05-31"
SUBSCRIPTIONS = (
    ("9ec51cfd-5ca7-4d76-8101-dd0a4abc5674", "Production"),
    ("1caaa5a3-2b66-438e-8ab4-bce37d518c5d", "Research"),
    ("2639de71-ca37-4a17-a104-17665a50e7fc", "Dev/Test"),
)
RESERVATION_ORDER = "a965d46f-aedf-4176-8ff1-2617943b8960"
RESERVATION = "f39d1c73-af74-4308-9083-fbf5efab37d1"
MCA_RATE = "0.92"
# (meter category, sub category, meter name, unit of measure, consumed service, ARM type, unit price, part number)
METERS = (
    (
        "Virtual Machines",
        "Dv2/DSv2 Series",
        "D2 v2/DS2 v2",
        "1 Hour",
        "Microsoft.Compute",
        "virtualMachines",
        "0.146",
        "997-03401",
    ),
    (
        "Storage",
        "Standard SSD Managed Disks",
        "E10 LRS Disk",
        "1/Month",
        "Microsoft.Compute",
        "disks",
        "9.6",
        "AAD-18186",
    ),
    (
        "Storage",
        "Tables",
        "LRS Data Stored",
        "1 GB/Month",
        "Microsoft.Storage",
        "storageAccounts",
        "0.045",
        "AAF-27727",
    ),
    ("Storage", "Blob Storage", "Read Operations", "10K", "Microsoft.Storage", "storageAccounts", "0.004", "AAF-27728"),
    (
        "Bandwidth",
        "Rtn Preference: MGN",
        "Standard Data Transfer Out",
        "1 GB",
        "Microsoft.Network",
        "publicIPAddresses",
        "0.087",
        "Q5H-00003",
    ),
    (
        "SQL Database",
        "Single Standard",
        "S0 DTUs",
        "1/Day",
        "Microsoft.Sql",
        "servers/databases",
        "0.4839",
        "4WP-00002",
    ),
    (
        "Log Analytics",
        "",
        "Pay-as-you-go Data Ingestion",
        "1 GB",
        "microsoft.operationalinsights",
        "workspaces",
        "2.76",
        "AAA-22047",
    ),
    (
        "Virtual Machines",
        "Dv3/DSv3 Series",
        "D4s v3 Spot",
        "1 Hour",
        "Microsoft.Compute",
        "virtualMachines",
        "0.0384",
        "AAA-44981",
    ),
)
LOCATIONS = (("eastus", "US East"), ("westeurope", "EU West"), ("uksouth", "UK South"))

EA_COLUMNS = (
    "BillingAccountId", "BillingAccountName", "BillingPeriodStartDate", "BillingPeriodEndDate", "BillingProfileId",
    "BillingProfileName", "AccountOwnerId", "AccountName", "SubscriptionId", "SubscriptionName", "Date", "ProductName",
    "PartNumber", "MeterId", "ServiceFamily", "MeterCategory", "MeterSubCategory", "MeterRegion", "MeterName",
    "Quantity", "EffectivePrice", "CostInBillingCurrency", "UnitPrice", "BillingCurrencyCode", "ResourceLocation",
    "AvailabilityZone", "ConsumedService", "ResourceId", "ResourceName", "ServiceInfo1", "ServiceInfo2",
    "AdditionalInfo", "Tags", "InvoiceSectionId", "InvoiceSectionName", "CostCenter", "UnitOfMeasure",
    "ResourceGroup", "ReservationId", "ReservationName", "ProductOrderId", "ProductOrderName", "OfferId",
    "IsAzureCreditEligible", "Term", "PublisherName", "PlanName", "ChargeType", "Frequency", "PublisherType",
    "PayGPrice", "PricingModel", "CostAllocationRuleName", "benefitId", "benefitName",
)  # fmt: skip
MCA_COLUMNS = (
    "invoiceId", "previousInvoiceId", "billingAccountId", "billingAccountName", "billingProfileId",
    "billingProfileName", "invoiceSectionId", "invoiceSectionName", "resellerName", "resellerMpnId", "costCenter",
    "billingPeriodEndDate", "billingPeriodStartDate", "servicePeriodEndDate", "servicePeriodStartDate", "date",
    "serviceFamily", "productOrderId", "productOrderName", "consumedService", "meterId", "meterName",
    "meterCategory", "meterSubCategory", "meterRegion", "ProductId", "ProductName", "SubscriptionId",
    "subscriptionName", "publisherType", "publisherId", "publisherName", "resourceGroupName", "ResourceId",
    "resourceLocation", "location", "effectivePrice", "quantity", "unitOfMeasure", "chargeType", "billingCurrency",
    "pricingCurrency", "costInBillingCurrency", "costInPricingCurrency", "costInUsd", "paygCostInBillingCurrency",
    "paygCostInUsd", "exchangeRatePricingToBilling", "exchangeRateDate", "isAzureCreditEligible", "serviceInfo1",
    "serviceInfo2", "additionalInfo", "tags", "PayGPrice", "frequency", "term", "reservationId", "reservationName",
    "pricingModel", "unitPrice", "benefitId", "benefitName", "provider",
)  # fmt: skip


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _select(rows: int, period: dt.date, seed: int, flavour: str, days: int | None) -> str:
    last = period.replace(day=calendar.monthrange(period.year, period.month)[1])
    days = min(days or last.day, last.day)
    mdy = lambda d: f"'{d.month:02d}/{d.day:02d}/{d.year}'"  # noqa: E731
    pick = lambda i: _list(tuple(m[i] for m in METERS))  # noqa: E731
    prices = "[" + ", ".join(f"cast('{m[6]}' as decimal(18,6))" for m in METERS) + "]"
    rate = "1" if flavour == "ea" else MCA_RATE
    ri_id = f"/providers/Microsoft.Capacity/reservationOrders/{RESERVATION_ORDER}/reservations/{RESERVATION}"
    base = f"""
with slots as (
    select i, cast(hash({seed}, i) >> 1 as bigint) as h from range({rows}) r(i)
),
kinds as (
    select *,
        case when i = 0 then 'purchase' when i % 40 = 1 then 'covered' when h % 9 = 0 then 'spot' else 'usage' end
            as kind,
        case when i = 0 or i % 40 = 1 then 1 when h % 9 = 0 then 8 else (h // 7) % 6 + 2 end as meter,
        least(i * {days} // {max(rows, 1)}, {days - 1}) as day_index,
        (h // 101) % {len(SUBSCRIPTIONS)} + 1 as sub,
        (h // 1009) % {len(LOCATIONS)} + 1 as loc,
        (h // 7919) % 400 as resource
    from slots
),
priced as (
    select *,
        date '{period.isoformat()}' + cast(day_index as integer) as usage_day,
        {pick(0)}[meter] as meter_category,
        {pick(1)}[meter] as meter_sub_category,
        {pick(2)}[meter] as meter_name,
        {pick(3)}[meter] as unit,
        {pick(4)}[meter] as consumed_service,
        {pick(5)}[meter] as arm_type,
        {pick(7)}[meter] as part_number,
        {prices}[meter] as payg_price,
        cast(case kind when 'purchase' then 1 when 'covered' then 24
            else cast((h // 13) % 2400000 + 1 as decimal(18,0)) * cast('0.00001' as decimal(18,5)) end
            as decimal(18,5)) as quantity,
        {_list(tuple(s[0] for s in SUBSCRIPTIONS))}[sub] as subscription_id,
        {_list(tuple(s[1] for s in SUBSCRIPTIONS))}[sub] as subscription_name,
        {_list(tuple(loc[0] for loc in LOCATIONS))}[loc] as location,
        {_list(tuple(loc[1] for loc in LOCATIONS))}[loc] as location_name
    from kinds
),
costed as (
    select *,
        cast(case kind when 'purchase' then cast('106.58' as decimal(18,6))
            when 'spot' then payg_price
            else payg_price * cast('0.9' as decimal(18,6)) end as decimal(18,6)) as unit_price,
        cast(case kind when 'purchase' then cast('106.58' as decimal(18,6))
            when 'covered' then cast(0 as decimal(18,6))
            when 'spot' then payg_price
            else payg_price * cast('0.9' as decimal(18,6)) end as decimal(18,6)) as effective_price
    from priced
),
final as (
    select *,
        round(quantity * effective_price * cast('{rate}' as decimal(18,9)), 9) as cost_billing,
        round(quantity * effective_price, 9) as cost_pricing,
        round(quantity * payg_price * cast('{rate}' as decimal(18,9)), 9) as payg_cost_billing,
        case when kind = 'purchase' then '/providers/Microsoft.Capacity/reservationOrders/{RESERVATION_ORDER}'
            else '/subscriptions/' || subscription_id || '/resourceGroups/rg-' || (resource % 12)
                || '/providers/' || consumed_service || '/' || arm_type || '/res-' || resource end as resource_id,
        strftime(usage_day, '%m/%d/%Y') as usage_text
    from costed
)
"""
    ri = "kind in ('purchase', 'covered')"
    common = {
        "charge_type": "case when kind = 'purchase' then 'Purchase' else 'Usage' end",
        "frequency": "case when kind = 'purchase' then 'Recurring' else 'UsageBased' end",
        "pricing_model": f"case when {ri} then 'Reservation' when kind = 'spot' then 'Spot' else 'OnDemand' end",
        "benefit_id": f"case when {ri} then '{ri_id}' end",
        "benefit_name": f"case when {ri} then 'ProdDS2VMReservation' end",
        "reservation_id": f"case when {ri} then '{RESERVATION}' end",
        "reservation_name": f"case when {ri} then 'ProdDS2VMReservation' end",
        "product_order_id": f"case when {ri} then '{RESERVATION_ORDER}' end",
        "product_order_name": f"case when {ri} then 'Reserved VM Instance, Standard_D2_v2, US East, 1 Year' end",
        "term": f"case when {ri} then '12' end",
        "additional_info": "case when kind = 'purchase' then null when meter in (1, 8) then "
        '\'{"ServiceType":"Standard_D2_v2","VCPUs":2,"RINormalizationRatio":\' || '
        "case when kind = 'covered' then '1.0' else 'null' end || '}' else null end",
        "tags_body": "'\"env\": \"' || ['prod', 'dev'][resource % 2 + 1] || '\",\"team\": \"' || "
        "['data', 'web', 'ml', 'platform'][resource % 4 + 1] || '\"'",
    }
    if flavour == "ea":
        values = {
            "BillingAccountId": f"'{BILLING_ACCOUNT}'",
            "BillingAccountName": "'Contoso Enrollment'",
            "BillingPeriodStartDate": mdy(period),
            "BillingPeriodEndDate": mdy(last),
            "BillingProfileId": f"'{BILLING_ACCOUNT}'",
            "BillingProfileName": "'Contoso Enrollment'",
            "AccountOwnerId": "'finops@contoso.example'",
            "AccountName": "'Contoso IT'",
            "SubscriptionId": "subscription_id",
            "SubscriptionName": "subscription_name",
            "Date": "usage_text",
            "ProductName": "meter_category || ' ' || meter_sub_category || ' - ' || meter_name",
            "PartNumber": "part_number",
            "MeterId": "'00000000-0000-4000-8000-' || lpad(cast(meter as varchar), 12, '0')",
            "ServiceFamily": "case when meter_category = 'Bandwidth' then 'Networking' else 'Compute' end",
            "MeterCategory": "meter_category",
            "MeterSubCategory": "meter_sub_category",
            "MeterRegion": "location_name",
            "MeterName": "meter_name",
            "Quantity": "quantity",
            "EffectivePrice": "effective_price",
            "CostInBillingCurrency": "cost_billing",
            "UnitPrice": "unit_price",
            "BillingCurrencyCode": "'USD'",
            "ResourceLocation": "location",
            "AvailabilityZone": "case when meter in (1, 8) then cast(resource % 3 + 1 as varchar) end",
            "ConsumedService": "case when kind = 'purchase' then 'Microsoft.Capacity' else consumed_service end",
            "ResourceId": "resource_id",
            "ResourceName": "case when kind <> 'purchase' then 'res-' || resource end",
            "AdditionalInfo": common["additional_info"],
            "Tags": f"case when kind <> 'purchase' then {common['tags_body']} end",
            "InvoiceSectionId": "'42'",
            "InvoiceSectionName": "'Engineering'",
            "CostCenter": "'cc-' || (resource % 40)",
            "UnitOfMeasure": "unit",
            "ResourceGroup": "case when kind <> 'purchase' then 'rg-' || (resource % 12) end",
            "ReservationId": common["reservation_id"],
            "ReservationName": common["reservation_name"],
            "ProductOrderId": common["product_order_id"],
            "ProductOrderName": common["product_order_name"],
            "OfferId": "'MS-AZR-0017P'",
            "IsAzureCreditEligible": "'True'",
            "Term": common["term"],
            "PublisherName": "'Microsoft'",
            "ChargeType": common["charge_type"],
            "Frequency": common["frequency"],
            "PublisherType": "'Azure'",
            "PayGPrice": "case when kind in ('purchase', 'covered') then cast(0 as decimal(18,6)) else payg_price end",
            "PricingModel": common["pricing_model"],
            "benefitId": common["benefit_id"],
            "benefitName": common["benefit_name"],
        }
        columns = EA_COLUMNS
    else:
        values = {
            "billingAccountId": f"'{MCA_ACCOUNT}'",
            "billingAccountName": "'Contoso Ltd'",
            "billingProfileId": f"'{BILLING_PROFILE}'",
            "billingProfileName": "'Contoso Europe'",
            "invoiceSectionId": "'XY98-ZW76-PGB'",
            "invoiceSectionName": "'Engineering'",
            "costCenter": "'cc-' || (resource % 40)",
            "billingPeriodEndDate": mdy(last),
            "billingPeriodStartDate": mdy(period),
            "servicePeriodEndDate": mdy(last),
            "servicePeriodStartDate": mdy(period),
            "date": "usage_text",
            "serviceFamily": "case when meter_category = 'Bandwidth' then 'Networking' else 'Compute' end",
            "productOrderId": f"coalesce({common['product_order_id']}, 'bdd0331d-dbc8-41cc-dc24-69de3e85abbd')",
            "productOrderName": f"coalesce({common['product_order_name']}, 'Azure plan')",
            "consumedService": "case when kind = 'purchase' then 'Microsoft.Capacity' else consumed_service end",
            "meterId": "'00000000-0000-4000-8000-' || lpad(cast(meter as varchar), 12, '0')",
            "meterName": "meter_name",
            "meterCategory": "meter_category",
            "meterSubCategory": "meter_sub_category",
            "meterRegion": "location_name",
            "ProductId": "'DZH318Z0' || upper(lpad(format('{:x}', meter), 8, '0'))",
            "ProductName": "meter_category || ' ' || meter_sub_category || ' - ' || meter_name",
            "SubscriptionId": "subscription_id",
            "subscriptionName": "subscription_name",
            "publisherType": "'Microsoft'",
            "publisherName": "'Microsoft'",
            "resourceGroupName": "case when kind <> 'purchase' then 'rg-' || (resource % 12) end",
            "ResourceId": "resource_id",
            "resourceLocation": "location",
            "location": "location_name",
            "effectivePrice": "effective_price",
            "quantity": "quantity",
            "unitOfMeasure": "unit",
            "chargeType": common["charge_type"],
            "billingCurrency": "'EUR'",
            "pricingCurrency": "'USD'",
            "costInBillingCurrency": "cost_billing",
            "costInPricingCurrency": "cost_pricing",
            "costInUsd": "cost_pricing",
            "paygCostInBillingCurrency": "case when kind in ('purchase', 'covered') then null "
            "else payg_cost_billing end",
            "paygCostInUsd": "case when kind in ('purchase', 'covered') then null "
            "else round(quantity * payg_price, 9) end",
            "exchangeRatePricingToBilling": f"'{MCA_RATE}'",
            "exchangeRateDate": mdy(period),
            "isAzureCreditEligible": "'True'",
            "additionalInfo": common["additional_info"],
            "tags": f"case when kind <> 'purchase' then '{{' || {common['tags_body']} || '}}' end",
            "PayGPrice": "case when kind in ('purchase', 'covered') then cast(0 as decimal(18,6)) else payg_price end",
            "frequency": common["frequency"],
            "term": common["term"],
            "reservationId": common["reservation_id"],
            "reservationName": common["reservation_name"],
            "pricingModel": common["pricing_model"],
            "unitPrice": "unit_price",
            "benefitId": common["benefit_id"],
            "benefitName": common["benefit_name"],
            "provider": "'Azure'",
        }
        columns = MCA_COLUMNS
    select = ", ".join(f'{values.get(c, "cast(null as varchar)")} as "{c}"' for c in columns)
    return f"{base} select {select} from final"


def write_azure_csv(
    path: Path,
    rows: int,
    seed: int = 7,
    *,
    flavour: str = "ea",
    period: dt.date = dt.date(2026, 1, 1),
    days: int | None = None,
) -> Path:
    """Write ``rows`` rows of an Azure actual-cost export of ``period`` (``flavour`` ea | mca) to ``path``.

    Rows are spread over the first ``days`` days of the month (default: all). A ``.gz`` suffix writes
    gzip. Returns ``path``. Row 0 is the month's reservation purchase.
    """
    if flavour not in ("ea", "mca"):
        raise ValueError(f"flavour must be ea or mca, got {flavour!r}")
    if rows < 1:
        raise ValueError("rows must be at least 1")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    compression = "gzip" if path.name.endswith(".gz") else "none"
    conn = duckdb.connect()
    try:
        conn.execute("set TimeZone = 'UTC'")
        conn.execute("set preserve_insertion_order = true")
        conn.execute("set enable_progress_bar = false")
        select = _select(rows, period.replace(day=1), seed, flavour, days)
        target = str(path).replace("'", "''")
        conn.execute(
            f"copy ({select}) to '{target}' (format csv, header true, delimiter ',', quote '\"', "
            f"escape '\"', compression {compression})"
        )
    finally:
        conn.close()
    return path
