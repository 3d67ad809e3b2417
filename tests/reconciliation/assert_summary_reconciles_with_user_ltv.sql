-- ltv_summary's counts and totals per horizon, recomputed from user_ltv.
with

users as (

    select * from {{ ref('user_ltv') }}

),

expected as (

    {%- for horizon in ltv_horizons() %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        '{{ horizon.name }}' as horizon,
        count(*) as eligible_users,
        sum(case when orders_{{ horizon.name }} > 0 then 1 else 0 end) as active_users,
        coalesce(sum(revenue_{{ horizon.name }}), 0) as total_revenue,
        coalesce(sum(orders_{{ horizon.name }}), 0) as total_orders
    from users
    {%- if horizon.months %}
    where is_{{ horizon.name }}_complete
    {%- endif %}
    {%- endfor %}

),

summary as (

    select * from {{ ref('ltv_summary') }}

)

select
    expected.*,
    summary.eligible_users as summary_eligible_users,
    summary.active_users as summary_active_users,
    summary.total_revenue as summary_total_revenue,
    summary.total_orders as summary_total_orders

from expected
left join summary
    on expected.horizon = summary.horizon

where
    summary.horizon is null
    or summary.eligible_users != expected.eligible_users
    or summary.active_users != coalesce(expected.active_users, 0)
    or summary.total_revenue != expected.total_revenue
    or summary.total_orders != expected.total_orders
    or summary.as_of_date != {{ ltv_as_of_date() }}
