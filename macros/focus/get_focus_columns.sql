{#-
    The single source of truth for the FOCUS 1.3 Cost and Usage table: the 65 spec columns in the
    spec's order (reference/focus-1.3.md section 2, alphabetical), then our x_ custom columns.
    Each entry: name, spec_type (Decimal | String | Date/Time | JSON, plus Date for x_ columns),
    feature_level (Mandatory | Recommended | Conditional | Custom), allows_nulls (the spec's content
    constraint), is_custom, data_type (engine type via get_focus_data_type()).
    The mart's final select, the typed-null fill and the contract check (tests/dbt) derive from it.
-#}
{% macro get_focus_columns() %}
    {%- set spec = [
        ('AllocatedMethodDetails', 'JSON', 'Recommended', true),
        ('AllocatedMethodId', 'String', 'Conditional', true),
        ('AllocatedResourceId', 'String', 'Conditional', true),
        ('AllocatedResourceName', 'String', 'Conditional', true),
        ('AllocatedTags', 'JSON', 'Conditional', true),
        ('AvailabilityZone', 'String', 'Recommended', true),
        ('BilledCost', 'Decimal', 'Mandatory', false),
        ('BillingAccountId', 'String', 'Mandatory', false),
        ('BillingAccountName', 'String', 'Mandatory', true),
        ('BillingAccountType', 'String', 'Conditional', false),
        ('BillingCurrency', 'String', 'Mandatory', false),
        ('BillingPeriodEnd', 'Date/Time', 'Mandatory', false),
        ('BillingPeriodStart', 'Date/Time', 'Mandatory', false),
        ('CapacityReservationId', 'String', 'Conditional', true),
        ('CapacityReservationStatus', 'String', 'Conditional', true),
        ('ChargeCategory', 'String', 'Mandatory', false),
        ('ChargeClass', 'String', 'Mandatory', true),
        ('ChargeDescription', 'String', 'Mandatory', true),
        ('ChargeFrequency', 'String', 'Recommended', false),
        ('ChargePeriodEnd', 'Date/Time', 'Mandatory', false),
        ('ChargePeriodStart', 'Date/Time', 'Mandatory', false),
        ('CommitmentDiscountCategory', 'String', 'Conditional', true),
        ('CommitmentDiscountId', 'String', 'Conditional', true),
        ('CommitmentDiscountName', 'String', 'Conditional', true),
        ('CommitmentDiscountQuantity', 'Decimal', 'Conditional', true),
        ('CommitmentDiscountStatus', 'String', 'Conditional', true),
        ('CommitmentDiscountType', 'String', 'Conditional', true),
        ('CommitmentDiscountUnit', 'String', 'Conditional', true),
        ('ConsumedQuantity', 'Decimal', 'Conditional', true),
        ('ConsumedUnit', 'String', 'Conditional', true),
        ('ContractApplied', 'JSON', 'Conditional', true),
        ('ContractedCost', 'Decimal', 'Mandatory', false),
        ('ContractedUnitPrice', 'Decimal', 'Conditional', true),
        ('EffectiveCost', 'Decimal', 'Mandatory', false),
        ('HostProviderName', 'String', 'Mandatory', true),
        ('InvoiceId', 'String', 'Recommended', true),
        ('InvoiceIssuerName', 'String', 'Mandatory', false),
        ('ListCost', 'Decimal', 'Mandatory', false),
        ('ListUnitPrice', 'Decimal', 'Conditional', true),
        ('PricingCategory', 'String', 'Conditional', true),
        ('PricingCurrency', 'String', 'Conditional', true),
        ('PricingCurrencyContractedUnitPrice', 'Decimal', 'Conditional', true),
        ('PricingCurrencyEffectiveCost', 'Decimal', 'Conditional', true),
        ('PricingCurrencyListUnitPrice', 'Decimal', 'Conditional', true),
        ('PricingQuantity', 'Decimal', 'Mandatory', true),
        ('PricingUnit', 'String', 'Mandatory', true),
        ('ProviderName', 'String', 'Mandatory', false),
        ('PublisherName', 'String', 'Mandatory', false),
        ('RegionId', 'String', 'Conditional', true),
        ('RegionName', 'String', 'Conditional', true),
        ('ResourceId', 'String', 'Conditional', true),
        ('ResourceName', 'String', 'Conditional', true),
        ('ResourceType', 'String', 'Conditional', true),
        ('ServiceCategory', 'String', 'Mandatory', false),
        ('ServiceName', 'String', 'Mandatory', false),
        ('ServiceProviderName', 'String', 'Mandatory', false),
        ('ServiceSubcategory', 'String', 'Recommended', false),
        ('SkuId', 'String', 'Conditional', true),
        ('SkuMeter', 'String', 'Conditional', true),
        ('SkuPriceDetails', 'JSON', 'Conditional', true),
        ('SkuPriceId', 'String', 'Conditional', true),
        ('SubAccountId', 'String', 'Conditional', true),
        ('SubAccountName', 'String', 'Conditional', true),
        ('SubAccountType', 'String', 'Conditional', true),
        ('Tags', 'JSON', 'Conditional', true),
    ] -%}
    {#- custom columns: lineage (DESIGN.md, names fixed) first, then GenAI / cost detail, then cloud billing detail -#}
    {%- set custom = [
        ('x_org_slug', 'String', false),
        ('x_pipeline_id', 'String', false),
        ('x_credential_id', 'String', false),
        ('x_pipeline_run_date', 'Date', false),
        ('x_run_id', 'String', false),
        ('x_ingested_at', 'Date/Time', false),
        ('x_ingestion_date', 'Date', false),
        ('x_ChargeRowId', 'String', false),
        ('x_ProviderSlug', 'String', false),
        ('x_UsageEndpoint', 'String', true),
        ('x_ModelName', 'String', true),
        ('x_TokenType', 'String', true),
        ('x_ServiceTier', 'String', true),
        ('x_ApiKeyId', 'String', true),
        ('x_LineItem', 'String', true),
        ('x_CostSource', 'String', false),
        ('x_EstimatedCost', 'Decimal', true),
        ('x_ServiceCode', 'String', true),
        ('x_UsageType', 'String', true),
        ('x_Operation', 'String', true),
        ('x_AwsLineItemType', 'String', true),
        ('x_AwsBillType', 'String', true),
        ('x_AwsLineItemId', 'String', true),
        ('x_CostCategories', 'JSON', true),
        ('x_SourceFile', 'String', true),
        ('x_ExportVersion', 'Date/Time', true),
    ] -%}
    {%- set columns = [] -%}
    {%- for name, spec_type, feature_level, allows_nulls in spec -%}
        {%- do columns.append({
            'name': name, 'spec_type': spec_type, 'feature_level': feature_level,
            'allows_nulls': allows_nulls, 'is_custom': false,
            'data_type': focusline.get_focus_data_type(spec_type)}) -%}
    {%- endfor -%}
    {%- for name, spec_type, allows_nulls in custom -%}
        {%- do columns.append({
            'name': name, 'spec_type': spec_type, 'feature_level': 'Custom',
            'allows_nulls': allows_nulls, 'is_custom': true,
            'data_type': focusline.get_focus_data_type(spec_type)}) -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}
