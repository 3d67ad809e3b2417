{#-
    The customers of the backtest (spec, section Backtest measures), per predictor: users with
    a revenue day before calibration_end_date (the as-of date - H days, var
    ltv_clv_backtest_holdout_days), their RFM as in user_rfm over those days, and
    what each predicted for [calibration_end_date, as-of date) against what
    happened. With the fit of this source as of calibration_end_date (else no rows,
    and this model, which reads the fit, warns that clv_backtest is empty):
    model E = BG/NBD E(H), P = E x the Gamma-Gamma p (v + x m) / (p x + q - 1), as
    user_clv; baseline E0 = x / T x H (0 when T = 0), P0 = E0 x the mean revenue
    of the calibration purchase days. A table: three marts read it.
-#}
{#- As in int_rfm_groups_scored: the JIT of PostgreSQL costs more than the series. -#}
{{ config(
    materialized='table',
    pre_hook=("set jit = off" if target.type == 'postgres' else ""),
) }}
{%- set holdout_days = var('ltv_clv_backtest_holdout_days', 273) | int -%}
{%- set calibration_end_sql = "cast('" ~ ltv_clv_calibration_end() ~ "' as date)" -%}
{%- set double = ltv_double_type() -%}
{%- set candidates_sql = ltv_clv_candidate_fits_sql() -%}
{%- if execute and model.unique_id in selected_resources -%}
    {%- do ltv_clv_warn_without_calibration_fit(candidates_sql) -%}
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
        first_purchase_date,
        count(*) - 1 as frequency,
        max(order_date) as last_purchase_date,
        sum(revenue) as revenue,
        sum(
            case when order_date = first_purchase_date then revenue else 0 end
        ) as first_purchase_day_revenue
    from (
        select
            *,
            min(order_date) over (partition by user_id) as first_purchase_date
        from revenue_days
        where order_date < {{ calibration_end_sql }}
    ) as calibration_days
    group by user_id, first_purchase_date

),

-- x, t_x, T (age) and m as user_rfm's; the money in double before dividing.
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
        ) as age,
        case
            when frequency = 0 then 0
            else
                cast(revenue - first_purchase_day_revenue as {{ double }})
                / frequency
        end as m,
        cast(revenue as {{ double }}) / (frequency + 1) as revenue_per_purchase_day
    from calibration

),

holdout as (

    select
        user_id,
        count(*) as purchases,
        sum(revenue) as revenue
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

{{ ltv_clv_parameters_cte('calibration_fit') }}

{{ ltv_clv_expected_purchase_ctes([holdout_days]) }}

scored as (

    select
        customers.user_id,
        customers.x,
        customers.age,
        customers.revenue_per_purchase_day,
        coalesce(holdout.purchases, 0) as actual_purchases,
        coalesce(cast(holdout.revenue as {{ double }}), 0) as actual_revenue,
        expected_per_alive.expected_purchases_{{ holdout_days }}d
        * {{ ltv_clv_probability_alive(ltv_clv_ln_dropout_odds(
            'customers.x', 'customers.t_x', 'customers.age'
        )) }} as expected_purchases,
        parameters.p * (parameters.v + customers.x * customers.m)
        / (parameters.p * customers.x + parameters.q - 1) as expected_order_value,
        case
            when customers.age = 0 then 0
            else customers.x / customers.age * {{ holdout_days }}
        end as baseline_purchases
    from customers
    cross join parameters
    inner join expected_per_alive
        on
            customers.x = expected_per_alive.x
            and customers.age = expected_per_alive.age
    left join holdout
        on customers.user_id = holdout.user_id

),

predictions as (

    select
        'model' as predictor,
        user_id,
        x,
        expected_purchases as predicted_purchases,
        expected_purchases * expected_order_value as predicted_revenue,
        actual_purchases,
        actual_revenue
    from scored
    union all
    select
        'baseline' as predictor,
        user_id,
        x,
        baseline_purchases as predicted_purchases,
        baseline_purchases * revenue_per_purchase_day as predicted_revenue,
        actual_purchases,
        actual_revenue
    from scored

),

final as (

    select
        ---------- ids
        cast(predictor as {{ dbt.type_string() }}) as predictor,
        user_id,

        ---------- numerics
        cast(x as integer) as calibration_frequency,
        cast(predicted_purchases as {{ double }}) as predicted_purchases,
        cast(actual_purchases as bigint) as actual_purchases,
        cast(predicted_revenue as {{ double }}) as predicted_revenue,
        cast(actual_revenue as {{ double }}) as actual_revenue,
        cast({{ holdout_days }} as integer) as holdout_days,

        ---------- dates
        {{ calibration_end_sql }} as calibration_end_date

    from predictions

)

select * from final
