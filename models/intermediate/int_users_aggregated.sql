{#-
    One row per user who signed up before the as-of date: revenue and revenue
    orders within each horizon and over the lifetime, whether each horizon is
    complete, first and last revenue day, and what user_rfm needs (purchase days,
    the revenue of the first day). Users without revenue orders have zeros.
-#}
{{ config(materialized='table') }}

{%- set horizons = ltv_horizons() %}
{%- set windowed_horizons = horizons | selectattr('months') | list %}
{%- set as_of = ltv_as_of_date() %}

with

users as (

    select * from {{ ref('stg_shop__users') }}
    where signup_date < {{ as_of }}

),

revenue_days as (

    select * from {{ ref('int_revenue_days_aggregated') }}

),

user_days as (

    select
        revenue_days.user_id,
        revenue_days.order_date,
        revenue_days.revenue,
        revenue_days.orders,
        {%- for horizon in windowed_horizons %}
        {{ ltv_add_months('users.signup_date', horizon.months) }}
            as horizon_end_{{ horizon.name }},
        {%- endfor %}
        row_number() over (
            partition by revenue_days.user_id
            order by revenue_days.order_date
        ) as day_number

    from revenue_days

    inner join users
        on revenue_days.user_id = users.user_id

),

-- Half-open windows with no lower bound: pre-signup orders count from day one.
-- Days outside a window are null, not 0: adding zeros to exact numerics costs time.
user_totals as (

    select
        user_id,
        {%- for horizon in windowed_horizons %}
        {%- set in_window = 'order_date < horizon_end_' ~ horizon.name %}
        sum(case when {{ in_window }} then revenue end) as revenue_{{ horizon.name }},
        sum(case when {{ in_window }} then orders end) as orders_{{ horizon.name }},
        {%- endfor %}
        sum(revenue) as revenue_lifetime,
        sum(orders) as orders_lifetime,
        count(*) as purchase_days,
        sum(case when day_number = 1 then revenue end) as first_purchase_day_revenue,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date

    from user_days
    group by user_id

),

final as (

    select
        ---------- ids
        users.user_id,

        ---------- strings
        users.acquisition_channel,

        ---------- numerics
        {%- for horizon in horizons %}
        cast(
            coalesce(user_totals.revenue_{{ horizon.name }}, 0)
            as {{ ltv_money_type() }}
        ) as revenue_{{ horizon.name }},
        {%- endfor %}
        {%- for horizon in horizons %}
        cast(coalesce(user_totals.orders_{{ horizon.name }}, 0) as bigint)
            as orders_{{ horizon.name }},
        {%- endfor %}
        cast(coalesce(user_totals.purchase_days, 0) as bigint) as purchase_days,
        cast(
            coalesce(user_totals.first_purchase_day_revenue, 0)
            as {{ ltv_money_type() }}
        ) as first_purchase_day_revenue,

        ---------- booleans
        {%- for horizon in windowed_horizons %}
        {{ ltv_add_months('users.signup_date', horizon.months) }} <= {{ as_of }}
            as is_{{ horizon.name }}_complete,
        {%- endfor %}

        ---------- dates
        users.signup_date,
        user_totals.first_order_date,
        user_totals.last_order_date

    from users

    left join user_totals
        on users.user_id = user_totals.user_id

)

select * from final
