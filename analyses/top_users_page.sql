-- Users who signed up in 2021 to 2024, best lifetime revenue first, one page at a
-- time (page 20 of 50): the service's user list (GET /api/v1/ltv/users) in plain
-- SQL. Ties by user_id; change the dates, the sort column or the page to taste.
select
    user_id,
    signup_date,
    acquisition_channel,
    ltv_segment,
    revenue_3m,
    revenue_6m,
    revenue_12m,
    revenue_lifetime,
    orders_lifetime,
    aov_lifetime,
    last_order_date,
    days_since_last_order
from {{ ref('user_ltv') }}
where signup_date between cast('2021-01-01' as date) and cast('2024-12-31' as date)
order by revenue_lifetime desc, user_id asc
limit 50 offset 950
