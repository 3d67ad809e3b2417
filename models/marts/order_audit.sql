with

orders as (

    select * from {{ ref('int_orders_classified') }}

),

final as (

    select
        ---------- ids
        order_id,
        user_id,

        ---------- strings
        order_status,
        currency_code,
        exclusion_reason,

        ---------- numerics
        order_amount,
        amount_usd,
        source_row_count,

        ---------- booleans
        is_revenue,

        ---------- dates
        order_date,
        {{ ltv_as_of_date() }} as as_of_date

    from orders

)

select * from final
