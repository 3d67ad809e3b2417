{#-
    The verdict of the backtest (spec, section Backtest measures): one row per predictor, the
    CLV model (BG/NBD and Gamma-Gamma fitted as of calibration_end_date) and the
    naive baseline (each customer keeps its calibration rate and spend), over the
    customers of int_backtest_customers_predicted:
    - aggregate: predicted against actual holdout purchases and revenue, with the
      relative error (predicted - actual) / actual (null when actual = 0);
    - per customer: MAE and RMSE of predicted purchases;
    - calibration: decile MAPE, the mean over the deciles of clv_backtest_deciles
      with actual revenue > 0 of |predicted - actual| / actual;
    - ranking: normalized Gini of predicted against actual revenue, G(ordered by
      predicted revenue desc, then user id) / G(ordered by actual revenue desc),
      G = sum over k of (V_k / V - k / n) / n; null when V of either G or the
      second G is 0.
    Empty without the calibration fit, as clv_backtest.
-#}
{%- set double = ltv_double_type() -%}

with

customers_predicted as (

    select * from {{ ref('int_backtest_customers_predicted') }}

),

clv_backtest_deciles as (

    select * from {{ ref('clv_backtest_deciles') }}

),

-- Each customer's rank k, by its prediction and by what happened, with V_k.
ranked as (

    select
        predictor,
        actual_revenue,
        cast(count(*) over (partition by predictor) as {{ double }}) as n,
        sum(actual_revenue) over (partition by predictor) as total_actual_revenue,
        cast(row_number() over (
            partition by predictor
            order by predicted_revenue desc, user_id asc
        ) as {{ double }}) as predicted_rank,
        sum(actual_revenue) over (
            partition by predictor
            order by predicted_revenue desc, user_id asc
            rows between unbounded preceding and current row
        ) as actual_revenue_to_predicted_rank,
        cast(row_number() over (
            partition by predictor
            order by actual_revenue desc, user_id asc
        ) as {{ double }}) as actual_rank,
        sum(actual_revenue) over (
            partition by predictor
            order by actual_revenue desc, user_id asc
            rows between unbounded preceding and current row
        ) as actual_revenue_to_actual_rank
    from customers_predicted

),

gini as (

    select
        predictor,
        sum(
            actual_revenue_to_predicted_rank / total_actual_revenue
            - predicted_rank / n
        ) / max(n) as gini_by_prediction,
        sum(
            actual_revenue_to_actual_rank / total_actual_revenue - actual_rank / n
        ) / max(n) as gini_by_actual
    from ranked
    where total_actual_revenue <> 0
    group by predictor

),

decile_errors as (

    select
        predictor,
        avg(
            case
                when actual_revenue > 0
                    then abs(predicted_revenue - actual_revenue) / actual_revenue
            end
        ) as revenue_decile_mape
    from clv_backtest_deciles
    group by predictor

),

totals as (

    select
        predictor,
        max(calibration_end_date) as calibration_end_date,
        max(holdout_days) as holdout_days,
        count(*) as customers,
        sum(predicted_purchases) as predicted_purchases,
        sum(actual_purchases) as actual_purchases,
        sum(predicted_revenue) as predicted_revenue,
        sum(actual_revenue) as actual_revenue,
        avg(abs(predicted_purchases - actual_purchases)) as purchases_mae,
        sqrt(avg(
            (predicted_purchases - actual_purchases)
            * (predicted_purchases - actual_purchases)
        )) as purchases_rmse
    from customers_predicted
    group by predictor

),

final as (

    select
        cast(totals.predictor as {{ dbt.type_string() }}) as predictor,
        totals.calibration_end_date,
        cast(totals.holdout_days as integer) as holdout_days,
        cast(totals.customers as bigint) as customers,
        {%- for quantity in ['purchases', 'revenue'] %}
        {%- set predicted = 'totals.predicted_' ~ quantity %}
        {%- set actual = 'totals.actual_' ~ quantity %}
        cast({{ predicted }} as {{ double }}) as predicted_{{ quantity }},
        cast({{ actual }} as {{ double }}) as actual_{{ quantity }},
        cast(
            case
                when {{ actual }} <> 0
                    then ({{ predicted }} - {{ actual }}) / {{ actual }}
            end as {{ double }}
        ) as {{ quantity }}_relative_error,
        {%- endfor %}
        cast(totals.purchases_mae as {{ double }}) as purchases_mae,
        cast(totals.purchases_rmse as {{ double }}) as purchases_rmse,
        cast(
            decile_errors.revenue_decile_mape as {{ double }}
        ) as revenue_decile_mape,
        cast(
            case
                when gini.gini_by_actual <> 0
                    then gini.gini_by_prediction / gini.gini_by_actual
            end as {{ double }}
        ) as normalized_gini,
        {{ ltv_as_of_date() }} as as_of_date
    from totals
    left join gini
        on totals.predictor = gini.predictor
    left join decile_errors
        on totals.predictor = decile_errors.predictor

)

select * from final
