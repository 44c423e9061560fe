-- FOCUS invariant: ListCost = ListUnitPrice x PricingQuantity (and ContractedCost likewise) where the
-- unit price is known, within the precision of DECIMAL(38,9) values: 1e-9 for the cost plus one unit of
-- the ninth decimal of the unit price per unit of quantity (a derived price cost / quantity is cut at 1e-9).
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
    where abs(ListCost - ListUnitPrice * PricingQuantity) > 0.000000001 * (1 + abs(PricingQuantity))
        or abs(ContractedCost - ContractedUnitPrice * PricingQuantity)
        > 0.000000001 * (1 + abs(PricingQuantity))

)

select * from final
