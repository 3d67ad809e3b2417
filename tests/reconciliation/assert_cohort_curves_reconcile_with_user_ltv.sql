-- At months 2, 5 and 11 a cohort's cumulative LTV is its users' mean revenue_3m,
-- revenue_6m and revenue_12m in user_ltv.
with

cohort_means as (

    select
        signup_month,
        avg(revenue_3m) as mean_revenue_3m,
        avg(revenue_6m) as mean_revenue_6m,
        avg(revenue_12m) as mean_revenue_12m
    from {{ ref('user_ltv') }}
    group by signup_month

),

curve_points as (

    select * from {{ ref('ltv_cohorts') }}
    where months_since_signup in (2, 5, 11)

)

select
    curve_points.signup_month,
    curve_points.months_since_signup,
    curve_points.ltv_cumulative,
    cohort_means.mean_revenue_3m,
    cohort_means.mean_revenue_6m,
    cohort_means.mean_revenue_12m

from curve_points
left join cohort_means
    on curve_points.signup_month = cohort_means.signup_month

where
    abs(
        curve_points.ltv_cumulative
        - case curve_points.months_since_signup
            when 2 then cohort_means.mean_revenue_3m
            when 5 then cohort_means.mean_revenue_6m
            else cohort_means.mean_revenue_12m
        end
    ) > 0.000001
    or cohort_means.signup_month is null
