-- Cumulative LTV curves of the cohorts who signed up from var ltv_cohorts_from
-- (default 2024-01-01) to before ltv_cohorts_to (default 2025-01-01), one row per
-- cohort and month of life.
select
    signup_month,
    cohort_users,
    months_since_signup,
    round(ltv_cumulative, 2) as ltv_cumulative,
    round(cast(active_share as numeric), 3) as active_share
from {{ ref('ltv_cohorts') }}
where
    signup_month >= {{ ltv_analysis_date('ltv_cohorts_from', '2024-01-01') }}
    and signup_month < {{ ltv_analysis_date('ltv_cohorts_to', '2025-01-01') }}
order by signup_month, months_since_signup
