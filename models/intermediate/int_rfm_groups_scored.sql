{#-
    What user_clv needs of the BG/NBD series, once per distinct (frequency, t) of
    int_users_rfm (the rows of user_rfm), with the fit of int_clv_fit_chosen:
    E(t) / probability_alive at 90 and 365 days and the discounted expected
    purchases of the next 12 months (see user_clv). Users share these pairs (65,713
    pairs for 721,255 users in the benchmark), and the series is the costly part
    of scoring. A table, so that user_clv joins it back with its statistics.
-#}
{#- The JIT of PostgreSQL compiles the wide expressions of the series for a minute
    or more (their row estimates are far above the real rows) to save well under a
    second. -#}
{{ config(
    materialized='table',
    pre_hook=("set jit = off" if target.type == 'postgres' else ""),
) }}
{%- set double = ltv_double_type() -%}
{%- set discount_rate = var('ltv_clv_monthly_discount_rate', 0.01) -%}
{%- set month_days = range(30, 361, 30) | list -%}

with

int_users_rfm as (

    select * from {{ ref('int_users_rfm') }}

),

int_clv_fit_chosen as (

    select * from {{ ref('int_clv_fit_chosen') }}

),

{{ ltv_clv_parameters_cte('int_clv_fit_chosen') }}

customers as (

    select distinct
        cast(frequency as {{ double }}) as x,
        cast(t as {{ double }}) as age
    from int_users_rfm

),

{{ ltv_clv_expected_purchase_ctes(month_days + [365]) }}

-- The month's purchases discounted: sum of (E(30k) - E(30(k-1))) / (1 + d)^k.
final as (

    select
        x as frequency,
        age as t,
        cast(expected_purchases_90d as {{ double }}) as expected_purchases_90d,
        cast(expected_purchases_365d as {{ double }}) as expected_purchases_365d,
        cast(
            {%- for days in month_days %}
            {%- set before = ' - expected_purchases_' ~ (days - 30) ~ 'd' %}
            (
                expected_purchases_{{ days }}d{{ before if not loop.first }}
            ) / power(cast(1 + {{ discount_rate }} as {{ double }}), {{ loop.index }})
            {{- " +" if not loop.last }}
            {%- endfor %}
            as {{ double }}
        ) as discounted_purchases_12m
    from expected_per_alive

)

select * from final
