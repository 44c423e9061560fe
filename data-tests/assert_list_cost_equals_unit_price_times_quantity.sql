-- FOCUS invariant: ListCost = ListUnitPrice x PricingQuantity (and ContractedCost likewise) where the
-- unit price is known, within the rounding of DECIMAL(38,9) values: 1e-9 for the cost plus half a unit
-- of the ninth decimal of the unit price times the quantity (a derived price cost / quantity is rounded).
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
    where abs(ListCost - ListUnitPrice * PricingQuantity) > 0.000000001 + 0.0000000005 * abs(PricingQuantity)
        or abs(ContractedCost - ContractedUnitPrice * PricingQuantity)
        > 0.000000001 + 0.0000000005 * abs(PricingQuantity)

)

select * from final
