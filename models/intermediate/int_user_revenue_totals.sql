{#-
    Per user, over the revenue days before the as-of date: revenue and revenue
    orders within each horizon and over the lifetime, first and last revenue day,
    what user_rfm needs (purchase days, the first day's revenue), and the signup
    date the horizons ended from. Every user of int_user_revenue_days has a row,
    zeros when nothing counts yet.
    Incremental (delete+insert by user): a run recomputes only the users whose
    revenue days were rewritten since the last run (their processed_at), and, when
    the as-of date has moved, those with a revenue day between the old and the new
    one, the only days that change sides.
-#}
{{ ltv_incremental_by_user() }}

{%- set windowed_horizons = ltv_horizons() | selectattr('months') | list -%}
{%- set as_of = ltv_as_of_date() -%}

with

revenue_days as (

    select * from {{ ref('int_user_revenue_days') }}

),

{% if is_incremental() %}

last_run as (

    select max(computed_at) as computed_at from {{ this }}

),

previous_run as (

    select
        coalesce(
            max(previous_rows.revenue_days_processed_at),
            cast('1900-01-01' as timestamp)
        ) as processed_at,
        -- The last run's as-of date: every row is valid for it, whichever run
        -- wrote the row (a run rewrites every user whose totals it changes).
        coalesce(
            max(
                case
                    when previous_rows.computed_at = last_run.computed_at
                        then previous_rows.computed_as_of_date
                end
            ),
            {{ as_of }}
        ) as as_of_date

    from {{ this }} as previous_rows

    cross join last_run

),

affected_users as (

    select distinct revenue_days.user_id

    from revenue_days

    cross join previous_run

    where
        revenue_days.processed_at > previous_run.processed_at
        or (
            revenue_days.order_date >= least(previous_run.as_of_date, {{ as_of }})
            and revenue_days.order_date < greatest(previous_run.as_of_date, {{ as_of }})
        )

),

{% endif %}

user_days as (

    select
        *,
        {%- for horizon in windowed_horizons %}
        {{ ltv_add_months('signup_date', horizon.months) }}
            as horizon_end_{{ horizon.name }},
        {%- endfor %}
        -- Days sort before the as-of date first: day 1 is the first purchase day
        -- whenever the user has one.
        row_number() over (
            partition by user_id
            order by order_date
        ) as day_number

    from revenue_days
    {%- if is_incremental() %}

    where user_id in (select affected_users.user_id from affected_users)
    {%- endif %}

),

-- Half-open windows with no lower bound: pre-signup orders count from day one.
-- Days outside a sum are null, not 0: adding zeros to exact numerics costs time.
user_totals as (

    select
        user_id,
        {%- for horizon in windowed_horizons %}
        {%- set in_window = (
            'order_date < ' ~ as_of ~ ' and order_date < horizon_end_' ~ horizon.name
        ) %}
        sum(case when {{ in_window }} then revenue end) as revenue_{{ horizon.name }},
        sum(case when {{ in_window }} then orders end) as orders_{{ horizon.name }},
        {%- endfor %}
        sum(case when order_date < {{ as_of }} then revenue end) as revenue_lifetime,
        sum(case when order_date < {{ as_of }} then orders end) as orders_lifetime,
        count(case when order_date < {{ as_of }} then 1 end) as purchase_days,
        sum(
            case when order_date < {{ as_of }} and day_number = 1 then revenue end
        ) as first_purchase_day_revenue,
        min(case when order_date < {{ as_of }} then order_date end)
            as first_order_date,
        max(case when order_date < {{ as_of }} then order_date end)
            as last_order_date,
        max(signup_date) as signup_date,
        max(processed_at) as revenue_days_processed_at,
        max(inputs_fingerprint) as inputs_fingerprint

    from user_days
    group by user_id

),

final as (

    select
        ---------- ids
        user_id,

        ---------- numerics
        {%- for horizon in ltv_horizons() %}
        cast(coalesce(revenue_{{ horizon.name }}, 0) as {{ ltv_money_type() }})
            as revenue_{{ horizon.name }},
        {%- endfor %}
        {%- for horizon in ltv_horizons() %}
        cast(coalesce(orders_{{ horizon.name }}, 0) as bigint)
            as orders_{{ horizon.name }},
        {%- endfor %}
        cast(purchase_days as bigint) as purchase_days,
        cast(coalesce(first_purchase_day_revenue, 0) as {{ ltv_money_type() }})
            as first_purchase_day_revenue,

        ---------- dates
        signup_date,
        first_order_date,
        last_order_date,
        {{ as_of }} as computed_as_of_date,

        ---------- timestamps
        revenue_days_processed_at,
        {{ ltv_run_started_at() }} as computed_at,

        ---------- inputs
        inputs_fingerprint

    from user_totals

)

select * from final
