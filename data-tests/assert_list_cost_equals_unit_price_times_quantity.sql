-- FOCUS invariant: ListCost = ListUnitPrice x PricingQuantity (and ContractedCost likewise) where the
-- unit price is known, within the 1e-9 rounding of a DECIMAL(38,9) cost.
with

mart as (

    select * from {{ ref('cost_data_standard_1_3') }}
    where ListUnitPrice is not null
        and (ChargeClass is null or ChargeClass <> 'Correction')

),

final as (

    select
        x_ChargeRowId,
        ListCost,
        ListUnitPrice,
        PricingQuantity,
        ContractedCost,
        ContractedUnitPrice

    from mart
    where abs(ListCost - ListUnitPrice * PricingQuantity) > 0.000000001
        or abs(ContractedCost - ContractedUnitPrice * PricingQuantity) > 0.000000001

)

select * from final
