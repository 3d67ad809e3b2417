{#- One row per user and horizon, for the statistics over eligible users. -#}

with

users as (

    select * from {{ ref('int_users_revenue_by_horizon') }}

),

unpivoted as (

    {%- for horizon in ltv_horizons() %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        user_id,
        acquisition_channel,
        '{{ horizon.name }}' as horizon,
        revenue_{{ horizon.name }} as revenue,
        orders_{{ horizon.name }} as orders,
        {{ 'is_' ~ horizon.name ~ '_complete' if horizon.months else 'true' }}
            as is_eligible
    from users
    {%- endfor %}

)

select * from unpivoted
