{%- set horizons = ltv_horizons() -%}
{%- set windowed_horizons = horizons | selectattr('months') | list -%}

with

users as (

    select * from {{ ref('stg_shop__users') }}
    where signup_date < {{ ltv_as_of_date() }}

),

revenue_days as (

    select * from {{ ref('int_user_revenue_days') }}
    where
        order_date < {{ ltv_as_of_date() }}
        and signup_date < {{ ltv_as_of_date() }}

),

-- Half-open windows with no lower bound: pre-signup orders count from day one.
user_totals as (

    select
        user_id,
        {%- for horizon in windowed_horizons %}
        sum(
            case
                when order_date < {{ ltv_add_months('signup_date', horizon.months) }}
                    then revenue
                else 0
            end
        ) as revenue_{{ horizon.name }},
        sum(
            case
                when order_date < {{ ltv_add_months('signup_date', horizon.months) }}
                    then orders
                else 0
            end
        ) as orders_{{ horizon.name }},
        {%- endfor %}
        sum(revenue) as revenue_lifetime,
        sum(orders) as orders_lifetime,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date

    from revenue_days
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
