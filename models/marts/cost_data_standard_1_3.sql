{{
    config(
        materialized='incremental',
        incremental_strategy=focusline.get_incremental_strategy(),
        unique_key='x_ChargeRowId',
        on_schema_change='fail',
        pre_hook="{{ focusline.delete_incremental_window('x_pipeline_run_date') }}",
        partition_by=focusline.get_partition_by('ChargePeriodStart', 'timestamp'),
        cluster_by=focusline.get_cluster_by(['x_ProviderSlug', 'x_credential_id', 'SubAccountId']),
    )
}}

with

genai_charges as (

    select * from {{ ref('int_genai_charges_mapped_to_focus') }}

),

aws_charges as (

    select * from {{ ref('int_aws_cur__charges_mapped_to_focus') }}

),

oci_charges as (

    select * from {{ ref('int_oci_cost__charges_mapped_to_focus') }}

),

focus_export_charges as (

    select * from {{ ref('int_focus_export__charges_mapped_to_focus') }}

),

gcp_charges as (

    select * from {{ ref('int_gcp_billing__charges_mapped_to_focus') }}

),

azure_charges as (

    select * from {{ ref('int_azure_cost__charges_mapped_to_focus') }}

),

{#- one import CTE per provider family's *_mapped_to_focus model; all share get_focus_columns() -#}
charges_unioned as (

    select * from genai_charges
    union all
    select * from aws_charges
    union all
    select * from oci_charges
    union all
    select * from focus_export_charges
    union all
    select * from gcp_charges
    union all
    select * from azure_charges

),

charges_in_window as (

    select * from charges_unioned
    where {{ focusline.get_incremental_window_filter('x_pipeline_run_date') }}

),

final as (

    select
        {%- for column in focusline.get_focus_columns() %}
        {{ column.name }}{{ "," if not loop.last }}
        {%- endfor %}

    from charges_in_window

)

select * from final
