{%- set horizons = ltv_horizons() -%}
{%- set windowed_horizons = horizons | selectattr('months') | list -%}

with

users as (

    select * from {{ ref('stg_shop__users') }}
    where signup_date < {{ ltv_as_of_date() }}

),

user_totals as (

    select * from {{ ref('int_user_revenue_totals') }}

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

        cast(coalesce(user_totals.purchase_days, 0) as bigint) as purchase_days,
        cast(
            coalesce(user_totals.first_purchase_day_revenue, 0)
            as {{ ltv_money_type() }}
        ) as first_purchase_day_revenue,

        ---------- dates
        users.signup_date,
        user_totals.first_order_date,
        user_totals.last_order_date

    from users

    left join user_totals
        on users.user_id = user_totals.user_id

)

select * from final
