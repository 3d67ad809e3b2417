{#-
    Revenue curves per signup-month cohort. Month m of a user is the window
    [signup_date + m months, signup_date + (m + 1) months); orders dated before
    signup fall in month 0. A cell exists only once every user of the cohort has
    completed month m, so no curve point is right-censored.
-#}

with

users as (

    select * from {{ ref('int_users_aggregated') }}

),

revenue_days as (

    select * from {{ ref('int_revenue_days_aggregated') }}

),

-- 1,200 months (a century) bounds the age of any cohort.
month_numbers as (

    {{ dbt.generate_series(1200) }}

),

cohorts as (

    select
        {{ ltv_month_start('signup_date') }} as signup_month,
        count(*) as cohort_users,
        max(signup_date) as last_signup_date

    from users
    group by {{ ltv_month_start('signup_date') }}

),

cohort_months as (

    select
        cohorts.signup_month,
        cohorts.cohort_users,
        cast(month_numbers.generated_number as integer) - 1 as months_since_signup

    from cohorts

    cross join month_numbers

    where
        {{ ltv_add_months(
            'cohorts.last_signup_date',
            'cast(month_numbers.generated_number as integer)'
        ) }} <= {{ ltv_as_of_date() }}

),

revenue_by_month_of_life as (

    select
        user_id,
        revenue,
        {{ ltv_month_start('signup_date') }} as signup_month,
        case
            when order_date < signup_date then 0
            else {{ ltv_months_between('signup_date', 'order_date') }}
        end as months_since_signup

    from revenue_days

),

monthly_activity as (

    select
        signup_month,
        months_since_signup,
        count(distinct user_id) as active_users,
        sum(revenue) as revenue_in_month

    from revenue_by_month_of_life
    group by signup_month, months_since_signup

),

cumulated as (

    select
        cohort_months.signup_month,
        cohort_months.months_since_signup,
        cohort_months.cohort_users,
        coalesce(monthly_activity.active_users, 0) as active_users,
        coalesce(monthly_activity.revenue_in_month, 0) as revenue_in_month,
        sum(coalesce(monthly_activity.revenue_in_month, 0)) over (
            partition by cohort_months.signup_month
            order by cohort_months.months_since_signup
            rows between unbounded preceding and current row
        ) as revenue_cumulative

    from cohort_months

    left join monthly_activity
        on
            cohort_months.signup_month = monthly_activity.signup_month
            and cohort_months.months_since_signup
            = monthly_activity.months_since_signup

),

final as (

    select
        signup_month,
        months_since_signup,
        {{ ltv_as_of_date() }} as as_of_date,
        cast(cohort_users as bigint) as cohort_users,
        cast(active_users as bigint) as active_users,
        cast(
            1.0 * active_users / cohort_users as {{ ltv_double_type() }}
        ) as active_share,
        cast(revenue_in_month as {{ ltv_money_type() }}) as revenue_in_month,
        cast(revenue_cumulative as {{ ltv_money_type() }}) as revenue_cumulative,
        cast(revenue_cumulative / cohort_users as {{ ltv_money_type() }})
            as ltv_cumulative

    from cumulated

)

select * from final
