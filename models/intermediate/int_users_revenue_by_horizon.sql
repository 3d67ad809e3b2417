{%- set horizons = ltv_horizons() -%}
{%- set windowed_horizons = horizons | selectattr('months') | list -%}

with

users as (

    select * from {{ ref('stg_shop__users') }}
    where signup_date < {{ ltv_as_of_date() }}

),

revenue_orders as (

    select * from {{ ref('int_orders_classified') }}
    where is_revenue

),

orders_in_horizons as (

    -- Half-open windows with no lower bound: pre-signup orders count from day one.
    select
        {%- for horizon in windowed_horizons %}
        revenue_orders.order_date
        < {{ ltv_add_months('revenue_orders.signup_date', horizon.months) }}
            as is_in_{{ horizon.name }},
        {%- endfor %}
        revenue_orders.user_id,
        revenue_orders.order_date,
        revenue_orders.amount_usd

    from revenue_orders

),

user_totals as (

    select
        user_id,
        {%- for horizon in windowed_horizons %}
        sum(case when is_in_{{ horizon.name }} then amount_usd else 0 end)
            as revenue_{{ horizon.name }},
        sum(case when is_in_{{ horizon.name }} then 1 else 0 end)
            as orders_{{ horizon.name }},
        {%- endfor %}
        sum(amount_usd) as revenue_lifetime,
        count(*) as orders_lifetime,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date

    from orders_in_horizons
    group by user_id

),

final as (

    select
        ---------- ids
        users.user_id,

        ---------- strings
        coalesce(users.acquisition_channel, 'unknown') as acquisition_channel,

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

        ---------- booleans
        {%- for horizon in windowed_horizons %}
        {{ ltv_add_months('users.signup_date', horizon.months) }}
        <= {{ ltv_as_of_date() }} as is_{{ horizon.name }}_complete,
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
