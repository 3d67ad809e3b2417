-- Per horizon, ltv_distribution's buckets add up to ltv_summary's eligible users
-- and total revenue, and the grid has exactly one row per horizon and bucket.
{%- set buckets = ltv_revenue_buckets() %}

with

distribution as (

    select * from {{ ref('ltv_distribution') }}

),

bucket_totals as (

    select
        horizon,
        count(*) as buckets,
        sum(users) as users,
        sum(revenue) as revenue
    from distribution
    group by horizon

),

summary as (

    select * from {{ ref('ltv_summary') }}

)

select
    summary.horizon,
    summary.eligible_users,
    bucket_totals.users as bucket_users,
    summary.total_revenue,
    bucket_totals.revenue as bucket_revenue,
    bucket_totals.buckets

from summary
left join bucket_totals
    on summary.horizon = bucket_totals.horizon

where
    bucket_totals.horizon is null
    or bucket_totals.buckets != {{ buckets | length }}
    or bucket_totals.users != summary.eligible_users
    or bucket_totals.revenue != summary.total_revenue
