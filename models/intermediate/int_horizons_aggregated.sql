{#-
    LTV statistics over the eligible users of each horizon, per acquisition channel and
    over all channels: ltv_by_channel and ltv_summary take their rows from here, so
    both compute LTV the same way. The marts derive the ratios; a horizon or
    channel without eligible users has no row here.
    One pass over the users, one column per horizon and statistic: a user outside
    the window of a horizon is null there, which every aggregate skips (percentiles
    included). Unpivoting the users first sorted four times as many rows.
-#}
{{ config(materialized='table') }}

{%- set horizons = ltv_horizons() %}

with

users as (

    select * from {{ ref('int_users_aggregated') }}

),

aggregated as (

    select
        {%- for horizon in horizons %}
        {%- set h = horizon.name %}
        {%- set is_eligible = ltv_horizon_is_eligible(horizon) %}
        {%- set eligible_revenue = (
            'case when ' ~ is_eligible ~ ' then revenue_' ~ h ~ ' end'
        ) %}
        count(case when {{ is_eligible }} then 1 end) as eligible_users_{{ h }},
        count(case when {{ is_eligible }} and orders_{{ h }} > 0 then 1 end)
            as active_users_{{ h }},
        sum({{ eligible_revenue }}) as total_revenue_{{ h }},
        sum(case when {{ is_eligible }} then orders_{{ h }} end)
            as total_orders_{{ h }},
        {{ ltv_percentile_cont(eligible_revenue, 0.5) }} as ltv_median_{{ h }},
        {{ ltv_percentile_cont(eligible_revenue, 0.95) }} as ltv_p95_{{ h }},
        {%- endfor %}
        acquisition_channel,
        grouping(acquisition_channel) = 1 as is_all_channels

    from users
    -- sqlfluff's DuckDB dialect does not parse grouping sets; the engines do.
    group by grouping sets ((acquisition_channel), ())  -- noqa: PRS

),

per_horizon as (

    {%- for horizon in horizons %}
    {%- if not loop.first %}

    union all
    {%- endif %}

    select
        '{{ horizon.name }}' as horizon,
        acquisition_channel,
        is_all_channels,
        eligible_users_{{ horizon.name }} as eligible_users,
        active_users_{{ horizon.name }} as active_users,
        total_revenue_{{ horizon.name }} as total_revenue,
        total_orders_{{ horizon.name }} as total_orders,
        ltv_median_{{ horizon.name }} as ltv_median,
        ltv_p95_{{ horizon.name }} as ltv_p95
    from aggregated
    where eligible_users_{{ horizon.name }} > 0
    {%- endfor %}

),

final as (

    select
        ---------- strings
        horizon,
        acquisition_channel,

        ---------- numerics
        cast(eligible_users as bigint) as eligible_users,
        cast(active_users as bigint) as active_users,
        cast(total_revenue as {{ ltv_money_type() }}) as total_revenue,
        cast(total_orders as bigint) as total_orders,
        cast(ltv_median as {{ ltv_money_type() }}) as ltv_median,
        cast(ltv_p95 as {{ ltv_money_type() }}) as ltv_p95,

        ---------- booleans
        is_all_channels

    from per_horizon

)

select * from final
