{#-
    Revenue orders summed per user and order day: the purchase days of user_rfm,
    the month-of-life cells of ltv_cohorts, and the horizon sums of
    int_users_aggregated all start here.
    A table: its three readers (with clv_backtest) would otherwise each aggregate
    every order again (DECISIONLOG, Performance).
-#}
{{ config(materialized='table') }}

with

orders as (

    select * from {{ ref('int_orders_classified') }}

),

aggregated as (

    select
        user_id,
        signup_date,
        order_date,
        sum(amount_usd) as revenue,
        count(*) as orders

    from orders
    where is_revenue
    group by user_id, signup_date, order_date

),

final as (

    select
        ---------- ids
        user_id,

        ---------- numerics
        cast(revenue as {{ ltv_money_type() }}) as revenue,
        cast(orders as bigint) as orders,

        ---------- dates
        signup_date,
        order_date

    from aggregated

)

select * from final
