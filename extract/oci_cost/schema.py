"""The raw landing table of OCI cost reports (and the deprecated usage reports): ``raw_oci_cost``.

OCI's proprietary reports (reference/billing-sources.md section 4.2) name columns ``group/name``
(``lineItem/referenceNo``, ``cost/myCost``, ``tags/Oracle-Tags.CreatedBy``); the set changes from
file to file (one column per tag key; newer files add ``product/resource``, ``cost/attributedCost``
...). Every file lands in one normalised column set:

* the known columns below, snake_cased under their group (``cost/myCost`` -> ``cost_my_cost``),
  matched case-insensitively (OCI spells ``lineItem/backreferenceNo`` and ``product/Description``):
  money, prices and quantities DECIMAL(38,9) (BigQuery NUMERIC; OCI writes scientific notation such
  as ``2.323760000E-9``: rounded to 1e-9, never through a float), timestamps UTC (OCI writes
  ``2023-11-13T07:00Z``, without seconds), ``line_item_is_correction`` BOOLEAN;
* every ``tags/<key>`` column into ``tags``, a JSON object keyed by what follows ``tags/``
  (``Oracle-Tags.CreatedBy`` for defined tags: namespace.key; ``free-form-tag`` for free-form ones),
  values as delivered, empty cells left out (NULL when a row has no tag);
* any other column into ``x_unmapped_columns`` JSON, so nothing is lost.

``x_source_format`` says which report a row came from: ``cost_report`` or ``usage_report`` (no
``cost/*`` columns, deprecated by Oracle on 2025-01-31). ``x_assumed_currency_code`` is set only on
rows that state no ``cost/currencyCode`` (usage reports, some zero-cost lines): the currency the
FOCUS mapping uses for them (step config ``currency``, else the tenant's single currency in the
cost reports of the same load).
"""

from __future__ import annotations

from extract.files import SOURCE_FILE_COLUMNS
from extract.load import RawTable

MONEY = "DECIMAL(38,9)"  # NUMERIC on BigQuery, as raw_aws_cur

# source column (lower case) -> (raw column, type). Spellings from billing-sources.md 4.2 and the samples.
KNOWN_COLUMNS: dict[str, tuple[str, str]] = {
    "lineitem/referenceno": ("line_item_reference_no", "VARCHAR"),
    "lineitem/tenantid": ("line_item_tenant_id", "VARCHAR"),
    "lineitem/tenantname": ("line_item_tenant_name", "VARCHAR"),
    "lineitem/intervalusagestart": ("line_item_interval_usage_start", "TIMESTAMP"),
    "lineitem/intervalusageend": ("line_item_interval_usage_end", "TIMESTAMP"),
    "lineitem/iscorrection": ("line_item_is_correction", "BOOLEAN"),
    "lineitem/backreferenceno": ("line_item_back_reference_no", "VARCHAR"),
    "product/service": ("product_service", "VARCHAR"),
    "product/resource": ("product_resource", "VARCHAR"),
    "product/compartmentid": ("product_compartment_id", "VARCHAR"),
    "product/compartmentname": ("product_compartment_name", "VARCHAR"),
    "product/compartmentpath": ("product_compartment_path", "VARCHAR"),
    "product/region": ("product_region", "VARCHAR"),
    "product/availabilitydomain": ("product_availability_domain", "VARCHAR"),
    "product/resourceid": ("product_resource_id", "VARCHAR"),
    "product/description": ("product_description", "VARCHAR"),
    "usage/billedquantity": ("usage_billed_quantity", MONEY),
    "usage/billedquantityoverage": ("usage_billed_quantity_overage", MONEY),
    "usage/consumedquantity": ("usage_consumed_quantity", MONEY),
    "usage/consumedquantityunits": ("usage_consumed_quantity_units", "VARCHAR"),
    "usage/consumedquantitymeasure": ("usage_consumed_quantity_measure", "VARCHAR"),
    "usage/attributedusage": ("usage_attributed_usage", MONEY),
    "cost/subscriptionid": ("cost_subscription_id", "VARCHAR"),
    "cost/productsku": ("cost_product_sku", "VARCHAR"),
    "cost/unitprice": ("cost_unit_price", MONEY),
    "cost/unitpriceoverage": ("cost_unit_price_overage", MONEY),
    "cost/mycost": ("cost_my_cost", MONEY),
    "cost/mycostoverage": ("cost_my_cost_overage", MONEY),
    "cost/attributedcost": ("cost_attributed_cost", MONEY),
    "cost/currencycode": ("cost_currency_code", "VARCHAR"),
    "cost/billingunitreadable": ("cost_billing_unit_readable", "VARCHAR"),
    "cost/skuunitdescription": ("cost_sku_unit_description", "VARCHAR"),
    "cost/overageflag": ("cost_overage_flag", "VARCHAR"),
}
FIXED_COLUMNS: dict[str, str] = dict(KNOWN_COLUMNS.values())
# raw column -> the source spelling used in messages
SOURCE_NAMES: dict[str, str] = {
    "line_item_reference_no": "lineItem/referenceNo",
    "line_item_tenant_id": "lineItem/tenantId",
    "line_item_interval_usage_start": "lineItem/intervalUsageStart",
    "cost_my_cost": "cost/myCost",
    "cost_currency_code": "cost/currencyCode",
}

COST_REPORT = "cost_report"
USAGE_REPORT = "usage_report"

RAW_OCI_COST = RawTable(
    name="raw_oci_cost",
    columns=(
        ("usage_date", "DATE"),  # UTC day of line_item_interval_usage_start: the data date
        ("billing_period", "DATE"),  # first day of the calendar month of line_item_interval_usage_start (UTC)
        *FIXED_COLUMNS.items(),
        ("tags", "JSON"),  # tags/<key> columns as one JSON object
        ("x_unmapped_columns", "JSON"),  # source columns outside the normalised set, by source name
        ("x_source_format", "VARCHAR"),  # cost_report | usage_report
        ("x_assumed_currency_code", "VARCHAR"),  # only where cost/currencyCode is empty (see module doc)
        *SOURCE_FILE_COLUMNS,
        ("x_export_version", "TIMESTAMP"),  # the version of the billing period's export this row belongs to
    ),
    date_column="usage_date",
)

REQUIRED = ("line_item_tenant_id", "line_item_interval_usage_start", "product_service")


def classify(column: str) -> tuple[str, str]:
    """Where one source column goes: (``fixed``, raw column) | (``tags``, tag key) | (``unmapped``, source name)."""
    group, sep, name = column.partition("/")
    if sep and group.lower() == "tags" and name:
        return "tags", name
    known = KNOWN_COLUMNS.get(column.strip().lower())
    if known:
        return "fixed", known[0]
    return "unmapped", column


def source_format(fixed: set[str]) -> str | None:
    """``cost_report`` when the file has ``cost/myCost``; ``usage_report`` when it has usage but no cost
    columns; None when it is neither (not an OCI report)."""
    if "cost_my_cost" in fixed:
        return COST_REPORT
    if {"usage_billed_quantity", "usage_consumed_quantity"} & fixed and not any(c.startswith("cost_") for c in fixed):
        return USAGE_REPORT
    return None
