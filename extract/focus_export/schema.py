"""The raw landing table of provider-native FOCUS exports: one typed column per FOCUS column.

Every FOCUS Cost and Usage column of versions 0.5 to 1.3 lands under its FOCUS 1.3 name in snake
case (``BilledCost`` -> ``billed_cost``), whatever version the file is:

* columns renamed by the spec land under their new name (``AmortizedCost`` -> ``effective_cost``,
  ``ChargeType`` -> ``charge_category``, ``Region`` -> ``region_id``, ``UsageQuantity`` / ``UsageUnit``
  -> ``consumed_quantity`` / ``consumed_unit``; FOCUS_Spec CHANGELOG); the column removed in 1.0
  (``ChargeSubcategory``) keeps a column of its own for the upgrade;
* types follow the spec's data types: Decimal -> DECIMAL(38,9) (BigQuery NUMERIC; rounded to 1e-9, never
  through a float), Date/Time -> TIMESTAMP (UTC), JSON -> JSON, String -> VARCHAR (text as delivered,
  trimmed; '' and the literal ``NULL`` of some exports are NULL);
* every other column (the provider's ``x_`` extension columns, ``Id`` of the official sample, ``oci_*``)
  goes into ``x_unmapped_columns`` as a JSON object under its source name, so nothing is lost;
* ``x_focus_version`` is the FOCUS version of the file (detected from its columns or set in the config)
  and ``x_source_focus_columns`` lists the FOCUS columns the file had (``,BilledCost,...,``): the dbt
  upgrade fills a column only where the source did not have it.
"""

from __future__ import annotations

import re

from extract.files import SOURCE_FILE_COLUMNS
from extract.load import RawTable

MONEY = "DECIMAL(38,9)"  # NUMERIC on BigQuery (DECISIONLOG: BIGNUMERIC and the emulator)

# FOCUS Cost and Usage columns: (name, FOCUS data type, version introduced). reference/focus-1.3.md section 2.
FOCUS_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("AllocatedMethodDetails", "JSON", "1.3"),
    ("AllocatedMethodId", "String", "1.3"),
    ("AllocatedResourceId", "String", "1.3"),
    ("AllocatedResourceName", "String", "1.3"),
    ("AllocatedTags", "JSON", "1.3"),
    ("AvailabilityZone", "String", "0.5"),
    ("BilledCost", "Decimal", "0.5"),
    ("BillingAccountId", "String", "0.5"),
    ("BillingAccountName", "String", "0.5"),
    ("BillingAccountType", "String", "1.2"),
    ("BillingCurrency", "String", "0.5"),
    ("BillingPeriodEnd", "Date/Time", "0.5"),
    ("BillingPeriodStart", "Date/Time", "0.5"),
    ("CapacityReservationId", "String", "1.1"),
    ("CapacityReservationStatus", "String", "1.1"),
    ("ChargeCategory", "String", "1.0-preview"),
    ("ChargeClass", "String", "1.0"),
    ("ChargeDescription", "String", "1.0-preview"),
    ("ChargeFrequency", "String", "1.0-preview"),
    ("ChargePeriodEnd", "Date/Time", "0.5"),
    ("ChargePeriodStart", "Date/Time", "0.5"),
    ("ChargeSubcategory", "String", "1.0-preview"),  # removed in 1.0; kept for the upgrade
    ("CommitmentDiscountCategory", "String", "1.0-preview"),
    ("CommitmentDiscountId", "String", "1.0-preview"),
    ("CommitmentDiscountName", "String", "1.0-preview"),
    ("CommitmentDiscountQuantity", "Decimal", "1.1"),
    ("CommitmentDiscountStatus", "String", "1.0"),
    ("CommitmentDiscountType", "String", "1.0-preview"),
    ("CommitmentDiscountUnit", "String", "1.1"),
    ("ConsumedQuantity", "Decimal", "1.0"),
    ("ConsumedUnit", "String", "1.0"),
    ("ContractApplied", "JSON", "1.3"),
    ("ContractedCost", "Decimal", "1.0"),
    ("ContractedUnitPrice", "Decimal", "1.0"),
    ("EffectiveCost", "Decimal", "1.0-preview"),
    ("HostProviderName", "String", "1.3"),
    ("InvoiceId", "String", "1.2"),
    ("InvoiceIssuerName", "String", "0.5"),
    ("ListCost", "Decimal", "1.0-preview"),
    ("ListUnitPrice", "Decimal", "1.0-preview"),
    ("PricingCategory", "String", "1.0-preview"),
    ("PricingCurrency", "String", "1.2"),
    ("PricingCurrencyContractedUnitPrice", "Decimal", "1.2"),
    ("PricingCurrencyEffectiveCost", "Decimal", "1.2"),
    ("PricingCurrencyListUnitPrice", "Decimal", "1.2"),
    ("PricingQuantity", "Decimal", "1.0-preview"),
    ("PricingUnit", "String", "1.0-preview"),
    ("ProviderName", "String", "0.5"),
    ("PublisherName", "String", "0.5"),
    ("RegionId", "String", "0.5"),
    ("RegionName", "String", "1.0"),
    ("ResourceId", "String", "0.5"),
    ("ResourceName", "String", "0.5"),
    ("ResourceType", "String", "1.0-preview"),
    ("ServiceCategory", "String", "0.5"),
    ("ServiceName", "String", "0.5"),
    ("ServiceProviderName", "String", "1.3"),
    ("ServiceSubcategory", "String", "1.1"),
    ("SkuId", "String", "1.0-preview"),
    ("SkuMeter", "String", "1.1"),
    ("SkuPriceDetails", "JSON", "1.1"),
    ("SkuPriceId", "String", "1.0-preview"),
    ("SubAccountId", "String", "0.5"),
    ("SubAccountName", "String", "0.5"),
    ("SubAccountType", "String", "1.2"),
    ("Tags", "JSON", "1.0-preview"),
)
FOCUS_TYPES = {name: kind for name, kind, _ in FOCUS_COLUMNS}

# columns the spec renamed (FOCUS_Spec CHANGELOG "Columns History"), plus the 1.0-preview-era names some
# OCI FOCUS report loaders use (reference/billing-sources.md 4.3, unverified)
RENAMES: dict[str, str] = {
    "AmortizedCost": "EffectiveCost",  # 0.5 -> 1.0-preview
    "ChargeType": "ChargeCategory",  # 0.5 -> 1.0-preview
    "Region": "RegionId",  # 0.5 -> 1.0
    "UsageQuantity": "ConsumedQuantity",  # 1.0-preview -> 1.0
    "UsageUnit": "ConsumedUnit",  # 1.0-preview -> 1.0
    "Provider": "ProviderName",
    "Publisher": "PublisherName",
    "InvoiceIssuer": "InvoiceIssuerName",
}
# the source version is the newest version whose own columns (or old names) the file has
VERSION_MARKERS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "1.3",
        frozenset(
            {
                "ServiceProviderName",
                "HostProviderName",
                "ContractApplied",
                "AllocatedMethodId",
                "AllocatedMethodDetails",
                "AllocatedResourceId",
                "AllocatedResourceName",
                "AllocatedTags",
            }
        ),
    ),
    # not BillingAccountType / SubAccountType: Azure FocusCost 1.0 already has them
    (
        "1.2",
        frozenset(
            {
                "InvoiceId",
                "PricingCurrency",
                "PricingCurrencyContractedUnitPrice",
                "PricingCurrencyEffectiveCost",
                "PricingCurrencyListUnitPrice",
            }
        ),
    ),
    (
        "1.1",
        frozenset(
            {
                "CapacityReservationId",
                "CapacityReservationStatus",
                "CommitmentDiscountQuantity",
                "CommitmentDiscountUnit",
                "ServiceSubcategory",
                "SkuMeter",
                "SkuPriceDetails",
            }
        ),
    ),
    (
        "1.0",
        frozenset(
            {
                "ChargeClass",
                "CommitmentDiscountStatus",
                "ConsumedQuantity",
                "ConsumedUnit",
                "ContractedCost",
                "ContractedUnitPrice",
                "RegionName",
            }
        ),
    ),
    ("1.0-preview", frozenset({"ChargeCategory", "EffectiveCost", "ChargeSubcategory", "UsageQuantity"})),
)
VERSIONS = ("0.5", "1.0-preview", "1.0", "1.1", "1.2", "1.3")

# FOCUS columns (1.3 names) without which a file cannot become a FOCUS 1.3 row: Mandatory in every version
# since 0.5 (EffectiveCost / ChargeCategory under their 0.5 names) and not derivable from other columns
REQUIRED: tuple[str, ...] = (
    "BilledCost",
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "EffectiveCost",
    "InvoiceIssuerName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
)
# values that must be on every row (the load keys and the money of the reconciliation)
NOT_NULL: tuple[str, ...] = (
    "BilledCost",
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodStart",
    "ChargePeriodStart",
)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def raw_name(focus_name: str) -> str:
    """``PricingCurrencyEffectiveCost`` -> ``pricing_currency_effective_cost``."""
    return _CAMEL.sub("_", focus_name).lower()


def _key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


# case- and separator-insensitive lookup of a source column: BilledCost, billedcost, billed_cost
_BY_KEY: dict[str, str] = {
    **{_key(name): name for name in FOCUS_TYPES},
    **{_key(name): name for name in RENAMES},
}


def classify(column: str) -> str | None:
    """The FOCUS name (as spelled by the spec, old names included) of a source column, or None."""
    if column.lower().startswith("x_"):
        return None
    return _BY_KEY.get(_key(column))


def detect_version(focus_names: set[str]) -> str:
    """The FOCUS version of a file from the FOCUS column names (spec spelling, old names kept) it has."""
    for version, markers in VERSION_MARKERS:
        if focus_names & markers:
            return version
    return "0.5"


def _duckdb_type(kind: str) -> str:
    return {"Decimal": MONEY, "Date/Time": "TIMESTAMP", "JSON": "JSON", "String": "VARCHAR"}[kind]


RAW_FOCUS_EXPORT = RawTable(
    name="raw_focus_export",
    columns=(
        ("usage_date", "DATE"),  # UTC day of ChargePeriodStart, kept inside the billing period
        ("billing_period", "DATE"),  # first day of BillingPeriodStart (UTC)
        *((raw_name(name), _duckdb_type(kind)) for name, kind, _ in FOCUS_COLUMNS),
        ("x_focus_version", "VARCHAR"),  # FOCUS version of the source file (detected or configured)
        ("x_source_focus_columns", "VARCHAR"),  # ',BilledCost,...,': FOCUS columns (1.3 names) the file had
        ("x_provider_hint", "VARCHAR"),  # the step config's provider (aws, azure, gcp, oci, ...), if any
        ("x_unmapped_columns", "JSON"),  # non-FOCUS source columns (provider x_ columns, ...) by source name
        *SOURCE_FILE_COLUMNS,
        ("x_export_version", "TIMESTAMP"),  # the version of the billing period's export this row belongs to
    ),
    date_column="usage_date",
)
