-- Everything the marts know about one user (primary-key lookup); var ltv_user_id
-- (default 42).
select
    user_ltv.user_id,
    user_ltv.signup_date,
    user_ltv.acquisition_channel,
    user_ltv.ltv_segment,
    user_ltv.revenue_3m,
    user_ltv.revenue_6m,
    user_ltv.revenue_12m,
    user_ltv.revenue_lifetime,
    user_ltv.orders_lifetime,
    user_ltv.last_order_date,
    user_rfm.frequency,
    user_rfm.recency,
    user_rfm.t,
    user_rfm.monetary_value
from {{ ref('user_ltv') }} as user_ltv
left join {{ ref('user_rfm') }} as user_rfm
    on user_ltv.user_id = user_rfm.user_id
where user_ltv.user_id = {{ ltv_analysis_integer('ltv_user_id', 42) }}
