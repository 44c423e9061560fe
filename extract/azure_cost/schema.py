"""The raw landing table of Azure Cost Management cost details exports: one column set for every flavour.

Enterprise Agreement (PascalCase, 2019-2024 schemas, and the older names ``Cost`` / ``BillingCurrency`` /
``Product`` / ``InvoiceSection``), Microsoft Customer Agreement (camelCase: ``costInBillingCurrency``,
``paygCostInBillingCurrency``, ``exchangeRatePricingToBilling``, ...) and the legacy pre-2019 usage
schema (``SubscriptionGuid``, ``UsageDateTime``, ``PreTaxCost``), actual or amortized, all land in
``raw_azure_cost`` (reference/billing-sources.md section 3.2):

* source headers are matched case-insensitively, ignoring anything but letters and digits
  (``BillingCurrencyCode`` = ``billingCurrencyCode`` = ``billing_currency_code``), each to one
  canonical snake-case name below; where a file has two spellings of one column the first alias
  listed wins and the other is kept unmapped;
* money, prices, quantities and exchange rates DECIMAL(38,9) (NUMERIC), never through a float;
  dates DATE (m/d/Y, unpadded, ISO dates or ISO timestamps);
* ``tags`` a JSON object (EA writes the object without its braces: ``"k": "v","k2": "v2"``),
  ``additional_info`` a JSON object (NULL when the text is not one; the text is then kept unmapped);
* derived: ``usage_date`` (= Date, the data date), ``billing_period`` (BillingPeriodStartDate, else the
  first of the month of Date), ``billing_period_end`` (exclusive), ``resource_type`` (the file's
  ResourceType, else the ARM type parsed from ResourceId, lower case), ``resource_name`` (the file's
  ResourceName, else the last segment of ResourceId), ``x_cost_dataset`` (actual | amortized) and
  ``x_source_format`` (ea | mca | legacy_usage);
* any other column into ``x_unmapped_columns`` JSON under its source name, so nothing is lost.
"""

from __future__ import annotations

import re

from extract.files import SOURCE_FILE_COLUMNS
from extract.load import RawTable

MONEY = "DECIMAL(38,9)"  # NUMERIC on BigQuery (see DECISIONLOG: BIGNUMERIC and the emulator)

# canonical name -> (DuckDB type, source aliases in priority order, compared by header_key())
CANONICAL: dict[str, tuple[str, tuple[str, ...]]] = {
    # invoice and billing structure
    "invoice_id": ("VARCHAR", ("invoiceid",)),
    "previous_invoice_id": ("VARCHAR", ("previousinvoiceid",)),
    "billing_account_id": ("VARCHAR", ("billingaccountid",)),
    "billing_account_name": ("VARCHAR", ("billingaccountname",)),
    "billing_profile_id": ("VARCHAR", ("billingprofileid",)),
    "billing_profile_name": ("VARCHAR", ("billingprofilename",)),
    "invoice_section_id": ("VARCHAR", ("invoicesectionid",)),
    "invoice_section_name": ("VARCHAR", ("invoicesectionname", "invoicesection", "departmentname")),
    "account_id": ("VARCHAR", ("accountid",)),
    "account_name": ("VARCHAR", ("accountname",)),
    "account_owner_id": ("VARCHAR", ("accountownerid", "accountowneremail")),
    "reseller_name": ("VARCHAR", ("resellername",)),
    "reseller_mpn_id": ("VARCHAR", ("resellermpnid",)),
    "partner_name": ("VARCHAR", ("partnername",)),
    "cost_center": ("VARCHAR", ("costcenter",)),
    # periods
    "billing_period_start_date": ("DATE", ("billingperiodstartdate",)),
    "billing_period_end_date": ("DATE", ("billingperiodenddate",)),
    "service_period_start_date": ("DATE", ("serviceperiodstartdate",)),
    "service_period_end_date": ("DATE", ("serviceperiodenddate",)),
    "charge_date": ("DATE", ("date", "usagedatetime", "usagedate")),
    # subscription and resource
    "subscription_id": ("VARCHAR", ("subscriptionid", "subscriptionguid")),
    "subscription_name": ("VARCHAR", ("subscriptionname",)),
    "resource_group": ("VARCHAR", ("resourcegroup", "resourcegroupname")),
    "resource_location": ("VARCHAR", ("resourcelocation",)),
    "resource_location_normalized": ("VARCHAR", ("resourcelocationnormalized", "location")),
    "resource_id": ("VARCHAR", ("resourceid", "instanceid", "instancename")),
    "resource_name": ("VARCHAR", ("resourcename",)),
    "resource_type": ("VARCHAR", ("resourcetype",)),
    "availability_zone": ("VARCHAR", ("availabilityzone",)),
    "offer_id": ("VARCHAR", ("offerid",)),
    "service_info1": ("VARCHAR", ("serviceinfo1",)),
    "service_info2": ("VARCHAR", ("serviceinfo2",)),
    "additional_info": ("JSON", ("additionalinfo",)),
    "tags": ("JSON", ("tags",)),
    # product and meter
    "provider": ("VARCHAR", ("provider",)),
    "product_name": ("VARCHAR", ("productname", "product")),
    "product_id": ("VARCHAR", ("productid",)),
    "part_number": ("VARCHAR", ("partnumber",)),
    "service_family": ("VARCHAR", ("servicefamily",)),
    "consumed_service": ("VARCHAR", ("consumedservice",)),
    "meter_id": ("VARCHAR", ("meterid",)),
    "meter_name": ("VARCHAR", ("metername",)),
    "meter_category": ("VARCHAR", ("metercategory",)),
    "meter_sub_category": ("VARCHAR", ("metersubcategory",)),
    "meter_region": ("VARCHAR", ("meterregion",)),
    "unit_of_measure": ("VARCHAR", ("unitofmeasure",)),
    "plan_name": ("VARCHAR", ("planname",)),
    # publisher and charge
    "publisher_type": ("VARCHAR", ("publishertype",)),
    "publisher_id": ("VARCHAR", ("publisherid",)),
    "publisher_name": ("VARCHAR", ("publishername",)),
    "charge_type": ("VARCHAR", ("chargetype",)),
    "frequency": ("VARCHAR", ("frequency",)),
    "pricing_model": ("VARCHAR", ("pricingmodel",)),
    "term": ("VARCHAR", ("term",)),
    "is_azure_credit_eligible": ("VARCHAR", ("isazurecrediteligible",)),
    "cost_allocation_rule_name": ("VARCHAR", ("costallocationrulename",)),
    # commitments
    "reservation_id": ("VARCHAR", ("reservationid",)),
    "reservation_name": ("VARCHAR", ("reservationname",)),
    "product_order_id": ("VARCHAR", ("productorderid",)),
    "product_order_name": ("VARCHAR", ("productordername",)),
    "benefit_id": ("VARCHAR", ("benefitid",)),
    "benefit_name": ("VARCHAR", ("benefitname",)),
    # quantity, prices, currencies and costs
    "quantity": (MONEY, ("quantity", "usagequantity")),
    "effective_price": (MONEY, ("effectiveprice", "resourcerate")),
    "unit_price": (MONEY, ("unitprice",)),
    "payg_price": (MONEY, ("paygprice",)),
    "billing_currency": ("VARCHAR", ("billingcurrencycode", "billingcurrency", "currency")),
    "pricing_currency": ("VARCHAR", ("pricingcurrency", "pricingcurrencycode")),
    "cost_in_billing_currency": (MONEY, ("costinbillingcurrency", "cost", "pretaxcost")),
    "cost_in_pricing_currency": (MONEY, ("costinpricingcurrency",)),
    "cost_in_usd": (MONEY, ("costinusd",)),
    "payg_cost_in_billing_currency": (MONEY, ("paygcostinbillingcurrency",)),
    "payg_cost_in_usd": (MONEY, ("paygcostinusd",)),
    "exchange_rate_pricing_to_billing": (MONEY, ("exchangeratepricingtobilling",)),
    "exchange_rate_date": ("DATE", ("exchangeratedate",)),
}

# what every file needs: (canonical name, what the error message calls it)
REQUIRED = (
    ("charge_date", "Date"),
    ("cost_in_billing_currency", "CostInBillingCurrency (or Cost / PreTaxCost)"),
    ("billing_currency", "BillingCurrencyCode (or BillingCurrency / Currency)"),
)
ACCOUNT_COLUMNS = ("billing_account_id", "subscription_id")
MCA_KEYS = frozenset(
    {
        "costinpricingcurrency",
        "pricingcurrency",
        "exchangeratepricingtobilling",
        "paygcostinbillingcurrency",
        "invoiceid",
        "serviceperiodstartdate",
    }
)
LEGACY_KEYS = frozenset({"subscriptionguid", "pretaxcost", "usagedatetime"})

RAW_AZURE_COST = RawTable(
    name="raw_azure_cost",
    columns=(
        ("usage_date", "DATE"),  # = Date: the data date
        ("billing_period", "DATE"),  # BillingPeriodStartDate, else the first of the month of Date
        ("billing_period_end", "DATE"),  # exclusive end of the billing period
        *((name, kind) for name, (kind, _) in CANONICAL.items() if name != "charge_date"),
        ("x_cost_dataset", "VARCHAR"),  # actual | amortized
        ("x_unmapped_columns", "JSON"),  # source columns outside the canonical set, by source name
        ("x_source_format", "VARCHAR"),  # ea | mca | legacy_usage
        *SOURCE_FILE_COLUMNS,
        ("x_export_version", "TIMESTAMP"),  # the version of the billing period's export this row belongs to
    ),
    date_column="usage_date",
)

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_ALIASES: dict[str, str] = {alias: name for name, (_, aliases) in CANONICAL.items() for alias in aliases}
_PRIORITY: dict[str, int] = {
    alias: index for _, (_, aliases) in CANONICAL.items() for index, alias in enumerate(aliases)
}


def header_key(column: str) -> str:
    """A header compared case-insensitively, ignoring separators and a UTF-8 byte order mark."""
    return _NOT_ALNUM.sub("", column.lstrip("\ufeff").lower())


def classify(columns: list[str]) -> tuple[dict[str, str], list[str]]:
    """Map a file's headers to canonical names: ({canonical: source column}, [unmapped source columns])."""
    chosen: dict[str, str] = {}
    for column in sorted(columns, key=lambda c: _PRIORITY.get(header_key(c), 0)):
        name = _ALIASES.get(header_key(column))
        if name is not None and name not in chosen:
            chosen[name] = column
    used = set(chosen.values())
    return chosen, [c for c in columns if c not in used]


def source_format(columns: list[str]) -> str:
    keys = {header_key(c) for c in columns}
    if keys & MCA_KEYS:
        return "mca"
    if keys & LEGACY_KEYS and "costinbillingcurrency" not in keys:
        return "legacy_usage"
    return "ea"
