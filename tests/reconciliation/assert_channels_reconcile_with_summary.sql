-- Per horizon, the channels of ltv_by_channel add up to ltv_summary's eligible
-- users, active users and total revenue.
with

channel_totals as (

    select
        horizon,
        sum(eligible_users) as eligible_users,
        sum(active_users) as active_users,
        sum(total_revenue) as total_revenue
    from {{ ref('ltv_by_channel') }}
    group by horizon

),

summary as (

    select * from {{ ref('ltv_summary') }}

)

select
    summary.horizon,
    summary.eligible_users,
    channel_totals.eligible_users as channel_eligible_users,
    summary.active_users,
    channel_totals.active_users as channel_active_users,
    summary.total_revenue,
    channel_totals.total_revenue as channel_total_revenue

from summary
left join channel_totals
    on summary.horizon = channel_totals.horizon

where
    coalesce(channel_totals.eligible_users, 0) != summary.eligible_users
    or coalesce(channel_totals.active_users, 0) != summary.active_users
    or coalesce(channel_totals.total_revenue, 0) != summary.total_revenue
