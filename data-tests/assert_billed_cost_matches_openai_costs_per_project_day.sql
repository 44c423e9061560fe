-- Per (organisation, credential, UTC day, project): the mart's billed OpenAI rows (allocated parts
-- plus billed rows without usage) sum exactly to the Costs API amounts in staging. Nothing billed is
-- lost or double-counted by the allocation.
with

mart as (

    select * from {{ ref('cost_data_standard_1_3') }}
    where x_ProviderSlug = 'openai'
        and x_CostSource = 'billed'

),

costs as (

    select * from {{ ref('stg_openai__costs') }}

),

mart_per_project_day as (

    select
        x_org_slug,
        x_credential_id,
        cast(ChargePeriodStart as date) as charge_date,
        coalesce(SubAccountId, '') as project_key,
        sum(BilledCost) as mart_billed_cost

    from mart
    group by 1, 2, 3, 4

),

costs_per_project_day as (

    select
        x_org_slug,
        x_credential_id,
        cost_date as charge_date,
        coalesce(project_id, '') as project_key,
        sum(billed_cost) as staging_billed_cost

    from costs
    group by 1, 2, 3, 4

),

final as (

    select
        coalesce(mart_per_project_day.x_org_slug, costs_per_project_day.x_org_slug) as x_org_slug,
        coalesce(mart_per_project_day.x_credential_id, costs_per_project_day.x_credential_id) as x_credential_id,
        coalesce(mart_per_project_day.charge_date, costs_per_project_day.charge_date) as charge_date,
        coalesce(mart_per_project_day.project_key, costs_per_project_day.project_key) as project_key,
        mart_per_project_day.mart_billed_cost,
        costs_per_project_day.staging_billed_cost

    from mart_per_project_day
    full outer join costs_per_project_day
        on mart_per_project_day.x_org_slug = costs_per_project_day.x_org_slug
        and mart_per_project_day.x_credential_id = costs_per_project_day.x_credential_id
        and mart_per_project_day.charge_date = costs_per_project_day.charge_date
        and mart_per_project_day.project_key = costs_per_project_day.project_key
    where coalesce(mart_per_project_day.mart_billed_cost, 0) <> coalesce(costs_per_project_day.staging_billed_cost, 0)

)

select * from final
