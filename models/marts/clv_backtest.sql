{#-
    How good is the CLV model? BG/NBD fitted on a calibration period (as of
    calibration_end_date = as-of date - var ltv_clv_backtest_holdout_days, default
    273 = 39 weeks) predicts the repeat purchase days of each user in the holdout
    period up to the as-of date; here against the actual ones, per calibration
    frequency (0..6, 7+) and in total. The per-customer predictions are the
    rows of the model in int_backtest_customers_predicted (calibration RFM from
    the revenue days as in user_rfm, one purchase per day); the fit is the fit of
    this source with fitted_as_of_date = calibration_end_date, which make fit-clv
    makes beside the scoring fit. Without one it is empty, and
    int_backtest_customers_predicted, which reads the fit, warns with the command
    to run.
-#}
{%- set calibration_end_sql = "cast('" ~ ltv_clv_calibration_end() ~ "' as date)" -%}
{%- set double = ltv_double_type() -%}
with

customers_predicted as (

    select * from {{ ref('int_backtest_customers_predicted') }}
    where predictor = 'model'

),

scored as (

    select
        user_id,
        actual_purchases as actual_repeat_purchases,
        predicted_purchases as expected_repeat_purchases,
        case
            when calibration_frequency >= 7 then 7 else calibration_frequency
        end as bin_order
    from customers_predicted

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
