{#-
    Calibration of the backtest (spec, section Backtest measures): per predictor (the
    model, the naive baseline), its customers in ten groups by predicted revenue,
    ntile(10) ordered by predicted revenue descending then user id (decile 1 the
    highest), the predicted revenue of each group against its actual holdout revenue.
    Empty without the calibration fit, as clv_backtest.
-#}
{%- set double = ltv_double_type() -%}

with

customers_predicted as (

    select * from {{ ref('int_backtest_customers_predicted') }}

),

ranked as (

    select
        predictor,
        predicted_revenue,
        actual_revenue,
        ntile(10) over (
            partition by predictor
            order by predicted_revenue desc, user_id asc
        ) as decile
    from customers_predicted

),

by_decile as (

    select
        predictor,
        decile,
        count(*) as customers,
        sum(predicted_revenue) as predicted_revenue,
        sum(actual_revenue) as actual_revenue
    from ranked
    group by predictor, decile

),

final as (

    select
        cast(predictor as {{ dbt.type_string() }}) as predictor,
        cast(decile as integer) as decile,
        cast(customers as bigint) as customers,
        cast(predicted_revenue as {{ double }}) as predicted_revenue,
        cast(actual_revenue as {{ double }}) as actual_revenue,
        {{ ltv_as_of_date() }} as as_of_date
    from by_decile

)

select * from final
