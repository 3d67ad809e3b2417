{#- One row per user and horizon: what ltv_distribution buckets. -#}
{{ config(materialized='view') }}

with

users as (

    select * from {{ ref('int_users_aggregated') }}

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
        {{ ltv_horizon_is_eligible(horizon) }}
            as is_eligible
    from users
    {%- endfor %}

)

select * from unpivoted
