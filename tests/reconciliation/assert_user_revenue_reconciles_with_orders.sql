-- Per user, lifetime revenue and orders in int_users_aggregated (user_ltv's
-- source) equal the sum of that user's revenue orders in int_orders_classified;
-- revenue orders of users missing from it show up too. It runs before the marts.
with

revenue_orders as (

    select * from {{ ref('int_orders_classified') }}
    where is_revenue

),

order_totals as (

    select
        user_id,
        sum(amount_usd) as revenue,
        count(*) as orders
    from revenue_orders
    group by user_id

),

user_totals as (

    select
        user_id,
        revenue_lifetime as revenue,
        orders_lifetime as orders
    from {{ ref('int_users_aggregated') }}
    where orders_lifetime > 0

)

select
    order_totals.revenue as order_revenue,
    user_totals.revenue as user_revenue,
    order_totals.orders as order_count,
    user_totals.orders as user_orders,
    coalesce(order_totals.user_id, user_totals.user_id) as user_id

from order_totals
full outer join user_totals
    on order_totals.user_id = user_totals.user_id

where
    order_totals.user_id is null
    or user_totals.user_id is null
    or order_totals.revenue != user_totals.revenue
    or order_totals.orders != user_totals.orders
