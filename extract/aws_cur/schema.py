"""The raw landing table of AWS Cost and Usage Reports: one normalised column set for every flavour.

Legacy CUR (``lineItem/UnblendedCost``), its Athena/Parquet snake-case flavour
(``line_item_unblended_cost``, flat ``product_*`` / ``resource_tags_*`` columns) and CUR 2.0 (Data
Exports: snake case, ``product`` / ``resource_tags`` / ``cost_category`` / ``discount`` maps) all land
in ``raw_aws_cur`` under the CUR 2.0 column names (reference/billing-sources.md section 2.2):

* the CUR 2.0 fixed columns below, typed: money, rates and quantities DECIMAL(38,9) = BigQuery NUMERIC
  (CUR writes up to 18 fractional digits and scientific notation such as ``5.2E-9``; values are
  rounded to 1e-9, never passed through a float), timestamps UTC;
* the map columns as JSON text objects (NULL when empty); legacy ``product/*`` columns outside the
  fixed set go into ``product`` under their CUR 2.0 key (``product/ProductName`` -> ``product_name``),
  ``resourceTags/user:team`` into ``resource_tags`` as ``user_team`` (the CUR 2.0 key form),
  ``costCategory/Team`` into ``cost_category`` as ``Team``;
* any other column (export-specific extras) into ``x_unmapped_columns`` JSON, so nothing is lost.
"""

from __future__ import annotations

import re

from extract.files import SOURCE_FILE_COLUMNS
from extract.load import RawTable

MONEY = "DECIMAL(38,9)"  # NUMERIC on BigQuery; see DECISIONLOG (BIGNUMERIC and the emulator)

# CUR 2.0 fixed columns (billing-sources.md 2.2) that focusline keeps as typed columns
TIMESTAMP_COLUMNS = (
    "bill_billing_period_start_date",
    "bill_billing_period_end_date",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
)
DECIMAL_COLUMNS = (
    "line_item_blended_cost",
    "line_item_blended_rate",
    "line_item_net_unblended_cost",
    "line_item_net_unblended_rate",
    "line_item_normalization_factor",
    "line_item_normalized_usage_amount",
    "line_item_unblended_cost",
    "line_item_unblended_rate",
    "line_item_usage_amount",
    "pricing_public_on_demand_cost",
    "pricing_public_on_demand_rate",
    "reservation_amortized_upfront_cost_for_usage",
    "reservation_amortized_upfront_fee_for_billing_period",
    "reservation_effective_cost",
    "reservation_net_amortized_upfront_cost_for_usage",
    "reservation_net_amortized_upfront_fee_for_billing_period",
    "reservation_net_effective_cost",
    "reservation_net_recurring_fee_for_usage",
    "reservation_net_unused_amortized_upfront_fee_for_billing_period",
    "reservation_net_unused_recurring_fee",
    "reservation_net_upfront_value",
    "reservation_normalized_units_per_reservation",
    "reservation_number_of_reservations",
    "reservation_recurring_fee_for_usage",
    "reservation_total_reserved_normalized_units",
    "reservation_total_reserved_units",
    "reservation_units_per_reservation",
    "reservation_unused_amortized_upfront_fee_for_billing_period",
    "reservation_unused_normalized_unit_quantity",
    "reservation_unused_quantity",
    "reservation_unused_recurring_fee",
    "reservation_upfront_value",
    "savings_plan_amortized_upfront_commitment_for_billing_period",
    "savings_plan_net_amortized_upfront_commitment_for_billing_period",
    "savings_plan_net_recurring_commitment_for_billing_period",
    "savings_plan_net_savings_plan_effective_cost",
    "savings_plan_recurring_commitment_for_billing_period",
    "savings_plan_savings_plan_effective_cost",
    "savings_plan_savings_plan_rate",
    "savings_plan_total_commitment_to_date",
    "savings_plan_used_commitment",
    "discount_bundled_discount",
    "discount_total_discount",
    "split_line_item_actual_usage",
    "split_line_item_net_split_cost",
    "split_line_item_net_unused_cost",
    "split_line_item_public_on_demand_split_cost",
    "split_line_item_public_on_demand_unused_cost",
    "split_line_item_reserved_usage",
    "split_line_item_split_cost",
    "split_line_item_split_usage",
    "split_line_item_split_usage_ratio",
    "split_line_item_unused_cost",
)
VARCHAR_COLUMNS = (
    "bill_bill_type",
    "bill_billing_entity",
    "bill_invoice_id",
    "bill_invoicing_entity",
    "bill_payer_account_id",
    "bill_payer_account_name",
    "identity_line_item_id",
    "identity_time_interval",
    "line_item_availability_zone",
    "line_item_currency_code",
    "line_item_legal_entity",
    "line_item_line_item_description",
    "line_item_line_item_type",
    "line_item_operation",
    "line_item_product_code",
    "line_item_resource_id",
    "line_item_tax_type",
    "line_item_usage_account_id",
    "line_item_usage_account_name",
    "line_item_usage_type",
    "pricing_currency",
    "pricing_lease_contract_length",
    "pricing_offering_class",
    "pricing_purchase_option",
    "pricing_rate_code",
    "pricing_rate_id",
    "pricing_term",
    "pricing_unit",
    "product_comment",
    "product_fee_code",
    "product_fee_description",
    "product_from_location",
    "product_from_location_type",
    "product_from_region_code",
    "product_instance_family",
    "product_instance_type",
    "product_instancesku",
    "product_location",
    "product_location_type",
    "product_operation",
    "product_pricing_unit",
    "product_product_family",
    "product_region_code",
    "product_servicecode",
    "product_sku",
    "product_to_location",
    "product_to_location_type",
    "product_to_region_code",
    "product_usagetype",
    "reservation_availability_zone",
    "reservation_end_time",
    "reservation_modification_status",
    "reservation_reservation_a_r_n",
    "reservation_start_time",
    "reservation_subscription_id",
    "savings_plan_end_time",
    "savings_plan_instance_type_family",
    "savings_plan_offering_type",
    "savings_plan_payment_option",
    "savings_plan_purchase_term",
    "savings_plan_region",
    "savings_plan_savings_plan_a_r_n",
    "savings_plan_start_time",
    "split_line_item_parent_resource_id",
    "capacity_reservation_capacity_reservation_arn",
    "capacity_reservation_capacity_reservation_status",
    "capacity_reservation_capacity_reservation_type",
)
MAP_COLUMNS = ("product", "resource_tags", "cost_category", "discount")

FIXED_COLUMNS: dict[str, str] = {
    **{name: "TIMESTAMP" for name in TIMESTAMP_COLUMNS},
    **{name: MONEY for name in DECIMAL_COLUMNS},
    **{name: "VARCHAR" for name in VARCHAR_COLUMNS},
}

RAW_AWS_CUR = RawTable(
    name="raw_aws_cur",
    columns=(
        ("usage_date", "DATE"),  # UTC day of line_item_usage_start_date: the data date
        ("billing_period", "DATE"),  # first day of the billing period (UTC)
        *((name, kind) for name, kind in FIXED_COLUMNS.items()),
        *((name, "JSON") for name in MAP_COLUMNS),
        ("x_unmapped_columns", "JSON"),  # source columns outside the normalised set, by source name
        ("x_source_format", "VARCHAR"),  # cur_legacy | cur_legacy_snake | cur2
        *SOURCE_FILE_COLUMNS,
        ("x_export_version", "TIMESTAMP"),  # the version of the billing period's export this row belongs to
    ),
    date_column="usage_date",
)

# legacy CUR group prefixes -> CUR 2.0 prefixes
_GROUPS = {
    "bill": "bill",
    "identity": "identity",
    "lineItem": "line_item",
    "pricing": "pricing",
    "product": "product",
    "reservation": "reservation",
    "savingsPlan": "savings_plan",
    "discount": "discount",
    "splitLineItem": "split_line_item",
}
_CAMEL_1 = re.compile(r"(.)([A-Z][a-z]+)")
_CAMEL_2 = re.compile(r"([a-z0-9])([A-Z])")


def snake_case(name: str) -> str:
    """``UnblendedCost`` -> ``unblended_cost``, ``ReservationARN`` -> ``reservation_a_r_n`` (CUR 2.0's spelling)."""
    if name.endswith(("ARN", "Arn")) and len(name) > 3:
        return snake_case(name[:-3]) + "_a_r_n"
    text = _CAMEL_2.sub(r"\1_\2", _CAMEL_1.sub(r"\1_\2", name))
    return re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()


def tag_key(name: str) -> str:
    """A tag key in the CUR 2.0 form: ``user:team`` -> ``user_team``, ``aws:createdBy`` -> ``aws_created_by``."""
    prefix, sep, rest = name.partition(":")
    if sep:
        return f"{prefix}_{rest}" if prefix in ("user", "aws") else name.replace(":", "_")
    return name


def classify(column: str) -> tuple[str, str]:
    """Where one source column goes: (``fixed``, name) | (``map``, map name) | (``product``/``resource_tags``/
    ``cost_category``/``discount``, key) | (``unmapped``, source name)."""
    if "/" in column:
        group, _, name = column.partition("/")
        if group == "resourceTags":
            return "resource_tags", tag_key(name)
        if group == "costCategory":
            return "cost_category", name
        prefix = _GROUPS.get(group)
        if prefix is None or "/" in name:
            return "unmapped", column
        candidate = f"{prefix}_{snake_case(name)}"
        if candidate in FIXED_COLUMNS:
            return "fixed", candidate
        if prefix == "product":
            return "product", snake_case(name)
        if prefix == "discount":
            return "discount", snake_case(name)
        return "unmapped", column
    lower = column.lower()
    if lower in FIXED_COLUMNS:
        return "fixed", lower
    if lower in MAP_COLUMNS:
        return "map", lower
    for group in ("resource_tags_", "cost_category_", "product_", "discount_"):
        if lower.startswith(group):
            return group.rstrip("_"), column[len(group) :]
    return "unmapped", column


def source_format(columns: list[str]) -> str:
    if any("/" in c for c in columns):
        return "cur_legacy"
    if any(c.lower() in MAP_COLUMNS for c in columns):
        return "cur2"
    return "cur_legacy_snake"
