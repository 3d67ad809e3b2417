{#-
    The RFM summary of lifetimes.utils.summary_data_from_transaction_data
    (freq='D') over revenue orders, observation end = as_of_date - 1 day: orders
    of one day merge into one purchase; monetary_value is the mean of the repeat
    purchase days (0 without repeats). Ready for BG/NBD and Gamma-Gamma fits.
-#}

with

-- Orders of one day are one purchase: the revenue days are the purchase days.
purchase_days as (

    select
        user_id,
        order_date as purchase_date,
        revenue as purchase_amount

    from {{ ref('int_user_revenue_days') }}
    where
        order_date < {{ ltv_as_of_date() }}
        and signup_date < {{ ltv_as_of_date() }}

),

numbered_purchase_days as (

    select
        *,
        row_number() over (
            partition by user_id
            order by purchase_date
        ) as purchase_number

    from purchase_days

),

user_purchases as (

    select
        user_id,
        count(*) - 1 as frequency,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        sum(
            case when purchase_number > 1 then purchase_amount else 0 end
        ) as repeat_purchase_amount

    from numbered_purchase_days
    group by user_id

),

final as (

    select
        user_id,
        {{ ltv_as_of_date() }} as as_of_date,
        cast(frequency as integer) as frequency,
        {{ ltv_days_between('first_purchase_date', 'last_purchase_date') }}
            as recency,
        {{ ltv_days_between('first_purchase_date', ltv_as_of_date()) }} - 1 as t,
        cast(
            case
                when frequency = 0 then 0
                else repeat_purchase_amount / frequency
            end as {{ ltv_money_type() }}
        ) as monetary_value

    from user_purchases

)

select * from final
