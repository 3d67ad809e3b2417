-- The 50 best users of a segment by 12-month revenue (index ltv_segment, revenue_12m).
select
    user_id,
    signup_date,
    acquisition_channel,
    revenue_12m,
    revenue_lifetime
from {{ ref('user_ltv') }}
where ltv_segment = 'VIP'
order by revenue_12m desc, user_id asc
limit 50
