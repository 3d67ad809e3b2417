-- What is a customer worth? Headline LTV per horizon, rounded for display.
select
    horizon,
    eligible_users,
    as_of_date,
    round(ltv_mean, 2) as ltv_mean,
    round(ltv_median, 2) as ltv_median,
    round(ltv_p95, 2) as ltv_p95,
    round(cast(active_share as numeric), 3) as active_share,
    round(recommended_max_cac, 2) as recommended_max_cac
from {{ ref('ltv_summary') }}
order by horizon_months nulls last
