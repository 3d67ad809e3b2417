{#-
    The RFM summary of lifetimes.utils.summary_data_from_transaction_data
    (freq D) over revenue orders, observation end = as_of_date - 1 day: orders
    of one day merge into one purchase; monetary_value is the mean of the repeat
    purchase days (0 without repeats). Ready for BG/NBD and Gamma-Gamma fits.
    Upstream of the marts, so that the CLV series reads it, not the mart user_rfm,
    which selects it. A view: a projection of int_users_aggregated, read twice.
-#}
{{ config(materialized='view') }}

with

-- Orders of one day are one purchase: the revenue days are the purchase days.
purchasers as (

    select * from {{ ref('int_users_aggregated') }}
    where purchase_days > 0

),

final as (

    select
        user_id,
        {{ ltv_as_of_date() }} as as_of_date,
        cast(purchase_days - 1 as integer) as frequency,
        {{ ltv_days_between('first_order_date', 'last_order_date') }} as recency,
        {{ ltv_days_between('first_order_date', ltv_as_of_date()) }} - 1 as t,
        cast(
            case
                when purchase_days = 1 then 0
                else
                    (revenue_lifetime - first_purchase_day_revenue)
                    / (purchase_days - 1)
            end as {{ ltv_money_type() }}
        ) as monetary_value

    from purchasers

)

select * from final
