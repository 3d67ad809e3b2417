{#
    What `make fit-clv` (scripts/fit_clv.py) needs from dbt, compiled once: the
    query of the grouped RFM rows of both fits and the fit table's DDL. The script
    runs them through the engine's own driver: rows are never carried by agate.
#}

{#-
    The fit's plan as a dict (the script compiles `tojson` of it): this source's
    identity; the as-of dates of the scoring fit (the build's) and of the
    backtest's calibration fit (minus var ltv_clv_backtest_holdout_days); the
    reporting currency (the unit of v); the query
    of their grouped rows (ltv_clv_fit_groups_sql); the fit table and its DDL.
-#}
{% macro ltv_clv_fit_plan() -%}
    {%- set as_of = ltv_as_of_date().split("'")[1] -%}
    {%- set calibration_end = ltv_clv_calibration_end() -%}
    {%- set fit_table = source('clv', 'clv_fits') -%}
    {%- set string = dbt.type_string() -%}
    {%- set double = ltv_double_type() -%}
    {{ return({
        'source_identity': ltv_clv_source_identity(),
        'currency': var('ltv_reporting_currency'),
        'as_of_dates': {'scoring': as_of, 'calibration': calibration_end},
        'groups_sql': ltv_clv_fit_groups_sql([as_of, calibration_end]),
        'fit_table': fit_table | string,
        'create_schema_sql': 'create schema if not exists '
            ~ adapter.quote(fit_table.schema),
        'create_table_sql': 'create table if not exists ' ~ fit_table
            ~ ' (source_identity ' ~ string ~ ', model ' ~ string
            ~ ', parameter ' ~ string ~ ', value ' ~ double
            ~ ', fitted_as_of_date date, fitted_customers bigint, log_likelihood '
            ~ double ~ ', fitted_at timestamp)',
    }) }}
{%- endmacro %}

{#-
    The grouped rows of the fits as of each date of `as_of_dates` (YYYY-MM-DD, the
    build's first), in one pass over the revenue days: rows (fitted_as_of_date,
    model, frequency, recency, t, monetary_value, customers). bg_nbd: customers per
    distinct (x, t_x, T), monetary_value null; gamma_gamma: per distinct (x, m)
    with x, m > 0, recency and t null. As of a date d, a customer's RFM is
    user_rfm's (observation end d - 1 day) over its revenue days before d: as of
    the build's date, user_rfm itself; as of an earlier date, the calibration rows
    of clv_backtest, which reads the same revenue days.
-#}
{% macro ltv_clv_fit_groups_sql(as_of_dates) -%}
{%- set double = ltv_double_type() -%}
{%- set money = ltv_money_type() -%}
with

revenue_days as (

    select
        user_id,
        order_date,
        revenue,
        min(order_date) over (partition by user_id) as first_order_date
    from {{ ref('int_revenue_days_aggregated') }}

),

-- Per user and fit: purchase days, the last one, revenue and the first day's.
users as (

    select
        user_id,
        first_order_date,
        {%- for as_of in as_of_dates %}
        {%- set before = "order_date < cast('" ~ as_of ~ "' as date)" %}
        count(case when {{ before }} then 1 end) as purchase_days_{{ loop.index }},
        max(case when {{ before }} then order_date end) as last_order_date_{{ loop.index }},
        sum(case when {{ before }} then revenue end) as revenue_{{ loop.index }},
        {%- endfor %}
        sum(
            case when order_date = first_order_date then revenue end
        ) as first_purchase_day_revenue
    from revenue_days
    group by user_id, first_order_date

),

-- As user_rfm computes them, the money exactly so.
rfm as (

    {%- for as_of in as_of_dates %}
    {%- set as_of_sql = "cast('" ~ as_of ~ "' as date)" %}
    select
        '{{ as_of }}' as fitted_as_of_date,
        cast(purchase_days_{{ loop.index }} - 1 as {{ double }}) as frequency,
        cast(
            {{ ltv_days_between('first_order_date', 'last_order_date_' ~ loop.index) }}
            as {{ double }}
        ) as recency,
        cast(
            {{ ltv_days_between('first_order_date', as_of_sql) }} - 1 as {{ double }}
        ) as t,
        cast(
            case
                when purchase_days_{{ loop.index }} = 1 then 0
                else
                    (
                        cast(revenue_{{ loop.index }} as {{ money }})
                        - cast(first_purchase_day_revenue as {{ money }})
                    )
                    / (purchase_days_{{ loop.index }} - 1)
            end as {{ money }}
        ) as monetary_value
    from users
    where purchase_days_{{ loop.index }} > 0
    {{- "\n    union all" if not loop.last }}
    {%- endfor %}

),

final as (

    select
        fitted_as_of_date,
        'bg_nbd' as model,
        frequency,
        recency,
        t,
        cast(null as {{ double }}) as monetary_value,
        count(*) as customers
    from rfm
    group by fitted_as_of_date, frequency, recency, t
    union all
    select
        fitted_as_of_date,
        'gamma_gamma' as model,
        frequency,
        cast(null as {{ double }}) as recency,
        cast(null as {{ double }}) as t,
        cast(monetary_value as {{ double }}) as monetary_value,
        count(*) as customers
    from rfm
    where frequency > 0 and monetary_value > 0
    group by fitted_as_of_date, frequency, monetary_value

)

{#- No order by: scripts/fit_clv.py sorts the rows (faster than the engines). -#}
select * from final
{%- endmacro %}
