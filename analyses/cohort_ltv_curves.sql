-- Cumulative LTV curves of the 2024 cohorts, one column per month of life.
select
    signup_month,
    cohort_users,
    months_since_signup,
    round(ltv_cumulative, 2) as ltv_cumulative,
    round(cast(active_share as numeric), 3) as active_share
from {{ ref('ltv_cohorts') }}
where
    signup_month >= cast('2024-01-01' as date)
    and signup_month < cast('2025-01-01' as date)
order by signup_month, months_since_signup
