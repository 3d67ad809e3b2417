-- Users who signed up in a date range, best lifetime revenue first, one page at a
-- time (page 20 of 50 rows). Served by the signup_date index on PostgreSQL.
{%- set page_size = 50 %}
{%- set page_number = 20 %}

select
    user_id,
    signup_date,
    acquisition_channel,
    ltv_segment,
    orders_lifetime,
    revenue_12m,
    revenue_lifetime
from {{ ref('user_ltv') }}
where
    signup_date >= cast('2021-01-01' as date)
    and signup_date < cast('2025-01-01' as date)
order by revenue_lifetime desc, user_id asc
limit {{ page_size }} offset {{ (page_number - 1) * page_size }}
