-- How 12-month LTV is spread over revenue buckets (users and revenue shares).
select
    bucket_label,
    users,
    round(cast(share_of_users as numeric), 4) as share_of_users,
    round(revenue, 2) as revenue,
    round(cast(share_of_revenue as numeric), 4) as share_of_revenue
from {{ ref('ltv_distribution') }}
where horizon = '12m'
order by bucket_order
