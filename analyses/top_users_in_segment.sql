-- The best VIP users by 12-month revenue, first page of 50, with how many users the
-- segment holds: the service's user list with segment=VIP&sort_by=revenue_12m.
select
    user_id,
    signup_date,
    acquisition_channel,
    revenue_12m,
    revenue_lifetime,
    orders_lifetime,
    aov_lifetime,
    days_since_last_order,
    count(*) over () as users_in_segment
from {{ ref('user_ltv') }}
where ltv_segment = 'VIP'
order by revenue_12m desc, user_id asc
limit 50
