{#-
    How good is the CLV model? BG/NBD fitted on a calibration period (as of
    calibration_end_date = as-of date - var ltv_clv_backtest_holdout_days, default
    273 = 39 weeks) predicts the repeat purchase days of each user in the holdout
    period up to the as-of date; here against the actual ones, per calibration
    frequency (0..6, 7+) and in total. The calibration RFM is built from the
    revenue days as user_rfm is (one purchase per day); the fit is
    the fit of this source with fitted_as_of_date = calibration_end_date, which
    make fit-clv makes beside the scoring fit. Without one it is empty and the build
    warns with the command to run.
-#}
{#- As in int_rfm_groups_scored: the JIT of PostgreSQL costs more than the series. -#}
{{ config(pre_hook=("set jit = off" if target.type == 'postgres' else "")) }}
{%- set holdout_days = var('ltv_clv_backtest_holdout_days', 273) | int -%}
{%- set as_of = modules.datetime.date.fromisoformat(
    ltv_as_of_date().split("'")[1]
) -%}
{%- set calibration_end = (
    as_of - modules.datetime.timedelta(days=holdout_days)
).isoformat() -%}
{%- set calibration_end_sql = "cast('" ~ calibration_end ~ "' as date)" -%}
{%- set double = ltv_double_type() -%}
{%- set candidates_sql = ltv_clv_candidate_fits_sql() -%}

{%- if execute and model.unique_id in selected_resources -%}
    {%- set found = run_query(
        "select count(*) from (" ~ candidates_sql ~ ") as fits"
        ~ " where fitted_as_of_date = " ~ calibration_end_sql
    ) -%}
    {%- if found.rows[0][0] == 0 -%}
        {%- do exceptions.warn(
            "clv_backtest is empty: there is no CLV fit of source "
            ~ ltv_clv_source_identity() ~ " as of " ~ calibration_end
            ~ " (the as-of date minus var ltv_clv_backtest_holdout_days). Run `make"
            ~ " fit-clv` with this build's DBT_TARGET and DBT_VARS (it fits that date"
            ~ " too), then build again."
        ) -%}
    {%- endif -%}
{%- endif -%}

with

revenue_days as (

    select * from {{ ref('int_revenue_days_aggregated') }}

),

candidate_fits as (

    {{ candidates_sql }}

),

calibration as (

    select
        user_id,
        count(*) - 1 as frequency,
        min(order_date) as first_purchase_date,
        max(order_date) as last_purchase_date
    from revenue_days
    where order_date < {{ calibration_end_sql }}
    group by user_id

),

customers as (

    select
        user_id,
        cast(frequency as {{ double }}) as x,
        cast(
            {{ ltv_days_between('first_purchase_date', 'last_purchase_date') }}
            as {{ double }}
        ) as t_x,
        cast(
            {{ ltv_days_between('first_purchase_date', calibration_end_sql) }} - 1
            as {{ double }}
        ) as age
    from calibration

),

holdout as (

    select
        user_id,
        count(*) as repeat_purchases
    from revenue_days
    where order_date >= {{ calibration_end_sql }}
    group by user_id

),

-- The newest refit of this source as of exactly the calibration end.
chosen_fit as (

    select fitted_at
    from candidate_fits
    where fitted_as_of_date = {{ calibration_end_sql }}
    order by fitted_at desc
    limit 1

),

calibration_fit as (

    select candidate_fits.*
    from candidate_fits
    inner join chosen_fit
        on candidate_fits.fitted_at = chosen_fit.fitted_at
    where candidate_fits.fitted_as_of_date = {{ calibration_end_sql }}

),

{{ ltv_clv_parameters_cte('calibration_fit', ['bg_nbd']) }}

{{ ltv_clv_expected_purchase_ctes([holdout_days]) }}

scored as (

    select
        customers.user_id,
        case
            when customers.x >= 7 then 7 else cast(customers.x as integer)
        end as bin_order,
        coalesce(holdout.repeat_purchases, 0) as actual_repeat_purchases,
        expected_per_alive.expected_purchases_{{ holdout_days }}d
        * {{ ltv_clv_probability_alive(ltv_clv_ln_dropout_odds(
            'customers.x', 'customers.t_x', 'customers.age'
        )) }} as expected_repeat_purchases
    from customers
    cross join parameters
    inner join expected_per_alive
        on
            customers.x = expected_per_alive.x
            and customers.age = expected_per_alive.age
    left join holdout
        on customers.user_id = holdout.user_id

),

by_bin as (

    select
        bin_order,
        count(*) as customers,
        sum(actual_repeat_purchases) as actual_repeat_purchases,
        sum(expected_repeat_purchases) as expected_repeat_purchases
    from scored
    group by bin_order

),

bins as (

    select
        bin_order,
        case
            when bin_order = 7 then '7+'
            else cast(bin_order as {{ dbt.type_string() }})
        end as frequency_bin,
        customers,
        actual_repeat_purchases,
        expected_repeat_purchases
    from by_bin
    union all
    select
        8 as bin_order,
        'total' as frequency_bin,
        sum(customers) as customers,
        sum(actual_repeat_purchases) as actual_repeat_purchases,
        sum(expected_repeat_purchases) as expected_repeat_purchases
    from by_bin
    having count(*) > 0

),

final as (

    select
        cast(frequency_bin as {{ dbt.type_string() }}) as frequency_bin,
        cast(bin_order as integer) as bin_order,
        cast(customers as bigint) as customers,
        cast(actual_repeat_purchases as bigint) as actual_repeat_purchases,
        cast(expected_repeat_purchases as {{ double }}) as expected_repeat_purchases,
        {{ calibration_end_sql }} as calibration_end_date,
        {{ ltv_as_of_date() }} as as_of_date
    from bins

)

select * from final
