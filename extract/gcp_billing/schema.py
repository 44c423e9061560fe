"""The raw landing table of the GCP Cloud Billing export (standard and detailed usage cost).

Every flavour of the export lands in ``raw_gcp_billing`` under one column set (reference/billing-sources.md 1.2):

* the BigQuery export's own shape, flattened one level: ``service.description`` -> ``service_description``;
  money, rates and quantities DECIMAL(38,9) = BigQuery NUMERIC (the export's FLOAT64 values are read through
  their shortest decimal text, never summed as floats), timestamps UTC;
* the nested REPEATED RECORDs (``credits``, ``labels``, ``system_labels``, ``project.labels``,
  ``project.ancestors``, ``tags``) as JSON arrays, as the export holds them; the flattened CSV's Python-repr
  text (``[{'name': ..., 'amount': -5e-06, 'full_name': None}]``) is converted to the same JSON;
* typed views of those arrays, derived by the reader so both engines' models read plain columns:
  ``credits_amount`` (sum of every credit), ``credits_promotion_amount`` (PROMOTION credits: a form of
  payment), ``commitment_credit_*`` (the committed use discount credit), ``credit_types`` and
  ``tags_object`` (labels, tags and system labels merged into one key-value JSON object);
* any other source column in ``x_unmapped_columns`` JSON, so nothing is lost.

Load key: billing periods are invoice months, and GCP puts late usage and corrections of earlier months on a
later invoice (a Jan-31 usage row on the February invoice). ``usage_date`` is the UTC day of
``usage_start_time``; the data date of the load key (``load_date``, x_pipeline_run_date) is that day clamped
into the invoice month, so replacing an invoice month never touches another month's rows.
"""

from __future__ import annotations

from typing import Literal

from extract.files import SOURCE_FILE_COLUMNS
from extract.load import RawTable

MONEY = "DECIMAL(38,9)"  # NUMERIC on BigQuery (as raw_aws_cur)

Kind = Literal["text", "decimal", "timestamp", "json"]

# (path in the export, raw column, kind): every field of the standard and detailed export focusline keeps
FIELDS: tuple[tuple[str, str, Kind], ...] = (
    ("billing_account_id", "billing_account_id", "text"),
    ("invoice.month", "invoice_month", "text"),
    ("invoice.publisher_type", "invoice_publisher_type", "text"),
    ("cost_type", "cost_type", "text"),
    ("service.id", "service_id", "text"),
    ("service.description", "service_description", "text"),
    ("sku.id", "sku_id", "text"),
    ("sku.description", "sku_description", "text"),
    ("usage_start_time", "usage_start_time", "timestamp"),
    ("usage_end_time", "usage_end_time", "timestamp"),
    ("project.id", "project_id", "text"),
    ("project.number", "project_number", "text"),
    ("project.name", "project_name", "text"),
    ("project.ancestry_numbers", "project_ancestry_numbers", "text"),
    ("project.ancestors", "project_ancestors", "json"),
    ("project.labels", "project_labels", "json"),
    ("labels", "labels", "json"),
    ("system_labels", "system_labels", "json"),
    ("tags", "tags", "json"),
    ("location.location", "location_location", "text"),
    ("location.country", "location_country", "text"),
    ("location.region", "location_region", "text"),
    ("location.zone", "location_zone", "text"),
    ("export_time", "export_time", "timestamp"),
    ("cost", "cost", "decimal"),
    ("currency", "currency", "text"),
    ("currency_conversion_rate", "currency_conversion_rate", "decimal"),
    ("usage.amount", "usage_amount", "decimal"),
    ("usage.unit", "usage_unit", "text"),
    ("usage.amount_in_pricing_units", "usage_amount_in_pricing_units", "decimal"),
    ("usage.pricing_unit", "usage_pricing_unit", "text"),
    ("credits", "credits", "json"),
    ("adjustment_info.id", "adjustment_info_id", "text"),
    ("adjustment_info.description", "adjustment_info_description", "text"),
    ("adjustment_info.type", "adjustment_info_type", "text"),
    ("adjustment_info.mode", "adjustment_info_mode", "text"),
    ("cost_at_list", "cost_at_list", "decimal"),
    ("transaction_type", "transaction_type", "text"),
    ("seller_name", "seller_name", "text"),
    ("price.effective_price", "price_effective_price", "decimal"),
    ("price.tier_start_amount", "price_tier_start_amount", "decimal"),
    ("price.unit", "price_unit", "text"),
    ("price.pricing_unit_quantity", "price_pricing_unit_quantity", "decimal"),
    ("price.list_price", "price_list_price", "decimal"),
    ("price.effective_price_default", "price_effective_price_default", "decimal"),
    ("price.list_price_consumption_model", "price_list_price_consumption_model", "decimal"),
    ("cost_at_effective_price_default", "cost_at_effective_price_default", "decimal"),
    ("cost_at_list_consumption_model", "cost_at_list_consumption_model", "decimal"),
    ("consumption_model.id", "consumption_model_id", "text"),
    ("consumption_model.description", "consumption_model_description", "text"),
    ("resource.name", "resource_name", "text"),
    ("resource.global_name", "resource_global_name", "text"),
    ("subscription.instance_id", "subscription_instance_id", "text"),
)
# a file without these is not a billing export
REQUIRED = ("billing_account_id", "cost", "currency", "invoice.month", "usage_start_time")
# fields only the detailed (resource-level) export has
DETAILED_ONLY = ("resource.name", "resource.global_name", "subscription.instance_id")

# the element shapes of the nested arrays (JSON lines and CSV are read into these; amounts as text)
CREDIT_SHAPE = '[{"name": "VARCHAR", "amount": "VARCHAR", "full_name": "VARCHAR", "id": "VARCHAR", "type": "VARCHAR"}]'
LABEL_SHAPE = '[{"key": "VARCHAR", "value": "VARCHAR"}]'
TAG_SHAPE = '[{"key": "VARCHAR", "value": "VARCHAR", "inherited": "VARCHAR", "namespace": "VARCHAR"}]'
ANCESTOR_SHAPE = '[{"resource_name": "VARCHAR", "display_name": "VARCHAR"}]'

# credit types that are a committed use discount (resource-based, legacy spend-based)
COMMITMENT_CREDIT_TYPES = ("COMMITTED_USAGE_DISCOUNT", "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE")
# prefix of system label keys in the merged tags (GCP label keys cannot contain '/', so no collision)
SYSTEM_LABEL_PREFIX = "system/"

DERIVED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("credits_amount", MONEY),  # sum of credits.amount (0 without credits)
    ("credits_promotion_amount", MONEY),  # sum of PROMOTION credits (0 without)
    ("commitment_credit_amount", MONEY),  # sum of committed use discount credits (0 without)
    ("commitment_credit_type", "VARCHAR"),  # the first CUD credit's type
    ("commitment_credit_id", "VARCHAR"),
    ("commitment_credit_name", "VARCHAR"),  # full_name, else name
    ("credit_types", "VARCHAR"),  # distinct credit types, sorted, comma separated
    ("promotion_credit_names", "VARCHAR"),  # names of the PROMOTION credits, comma separated
    ("tags_object", "JSON"),  # merged key-value object (see the model's Tags)
)

RAW_GCP_BILLING = RawTable(
    name="raw_gcp_billing",
    columns=(
        ("usage_date", "DATE"),  # UTC day of usage_start_time
        ("billing_period", "DATE"),  # first day of invoice.month
        ("load_date", "DATE"),  # usage_date clamped into the invoice month: the load key's data date
        *(
            (column, {"text": "VARCHAR", "decimal": MONEY, "timestamp": "TIMESTAMP", "json": "JSON"}[kind])
            for _, column, kind in FIELDS
        ),
        *DERIVED_COLUMNS,
        ("x_unmapped_columns", "JSON"),  # source columns outside the normalised set, by source name
        ("x_source_format", "VARCHAR"),  # standard | detailed, then the file format: detailed/parquet
        *SOURCE_FILE_COLUMNS,
        ("x_export_version", "TIMESTAMP"),  # the version of the invoice month's export this row belongs to
    ),
    date_column="load_date",
)
