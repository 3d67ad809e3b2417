{#-
    BG/NBD and Gamma-Gamma scores of every user of user_rfm with the fit of
    clv_model_parameters (empty without one). E(t) uses Euler's transformation:
    with z = t / (alpha + T + t), C = a + b + x - 1,
    E(t) = C [(1 - (1-z)^(a-1)) / (a-1) - (1-z)^(a-1) G] * probability_alive,
    G = sum over n >= 1 of (a+b-1-r)_n (a)_(n-1) / ((C)_n n!) z^n, which is
    2F1(a+b-1-r, a-1; C; z) = 1 + (a-1) G without the factor a - 1, so a = 1 is
    no special case. Its small upper parameters make it converge fast for large x;
    each (x, T, t) sums only the terms its convergence needs (term_count), at most
    ltv_clv_max_terms(). The series depends on x and T only: it is computed once
    per distinct (x, T) and horizon, and its coefficients once per distinct x.
-#}
{#- PostgreSQL misestimates the series' CTEs and picks merge joins and nested loops
    that rescan millions of rows (30 s at 2,100 users); hash joins take 1 s. -#}
{{ config(pre_hook=(
    "set local enable_mergejoin = off; set local enable_nestloop = off"
    if target.type == 'postgres' else ""
)) }}
{%- set double = ltv_double_type() -%}
{%- set discount_rate = var('ltv_clv_monthly_discount_rate', 0.01) -%}

with

user_rfm as (

    select * from {{ ref('user_rfm') }}

),

clv_model_parameters as (

    select * from {{ ref('clv_model_parameters') }}

),

-- One row with the seven parameters, none without a complete fit.
parameters as (

    select
        max(case when model = 'bg_nbd' and parameter = 'r' then value end) as r,
        max(
            case when model = 'bg_nbd' and parameter = 'alpha' then value end
        ) as alpha,
        max(case when model = 'bg_nbd' and parameter = 'a' then value end) as a,
        max(case when model = 'bg_nbd' and parameter = 'b' then value end) as b,
        max(
            case when model = 'gamma_gamma' and parameter = 'p' then value end
        ) as p,
        max(
            case when model = 'gamma_gamma' and parameter = 'q' then value end
        ) as q,
        max(
            case when model = 'gamma_gamma' and parameter = 'v' then value end
        ) as v
    from clv_model_parameters
    having count(*) = 7

),

customers as (

    select
        user_id,
        as_of_date,
        cast(frequency as {{ double }}) as x,
        cast(recency as {{ double }}) as t_x,
        cast(t as {{ double }}) as age,
        cast(monetary_value as {{ double }}) as m
    from user_rfm

),

month_numbers as (

    {{ dbt.generate_series(12) }}

),

-- The horizons (days) E(t) is needed at: each month end of 12, and 365 days.
horizons as (

    select
        cast(30 * generated_number as {{ double }}) as horizon_days,
        generated_number as month_number
    from month_numbers
    union all
    select
        cast(365 as {{ double }}) as horizon_days,
        cast(null as integer) as month_number

),

{{ ltv_clv_expected_purchase_ctes() }}

-- The month's purchases discounted: sum of (E(30k) - E(30(k-1))) / (1 + d)^k.
monthly as (

    select
        x,
        age,
        month_number,
        expected_purchases - coalesce(
            lag(expected_purchases) over (partition by x, age order by month_number),
            0
        ) as purchases_in_month
    from expected_per_alive
    where month_number is not null

),

purchase_groups as (

    select
        expected_per_alive.x,
        expected_per_alive.age,
        max(
            case
                when
                    expected_per_alive.horizon_days = 90
                    then expected_per_alive.expected_purchases
            end
        ) as expected_purchases_90d,
        max(
            case
                when
                    expected_per_alive.horizon_days = 365
                    then expected_per_alive.expected_purchases
            end
        ) as expected_purchases_365d
    from expected_per_alive
    group by expected_per_alive.x, expected_per_alive.age

),

discounted_groups as (

    select
        x,
        age,
        sum(
            purchases_in_month
            / power(cast(1 + {{ discount_rate }} as {{ double }}), month_number)
        ) as discounted_purchases_12m
    from monthly
    group by x, age

),

-- ln of a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x), for x > 0.
scored as (

    select
        customers.user_id,
        customers.as_of_date,
        customers.x,
        customers.m,
        purchase_groups.expected_purchases_90d,
        purchase_groups.expected_purchases_365d,
        discounted_groups.discounted_purchases_12m,
        parameters.p,
        parameters.q,
        parameters.v,
        case
            when customers.x > 0
                then
                    ln(parameters.a / (parameters.b + customers.x - 1))
                    + (parameters.r + customers.x) * ln(
                        (parameters.alpha + customers.age)
                        / (parameters.alpha + customers.t_x)
                    )
        end as ln_dropout_odds
    from customers
    cross join parameters
    inner join purchase_groups
        on customers.x = purchase_groups.x and customers.age = purchase_groups.age
    inner join discounted_groups
        on
            customers.x = discounted_groups.x
            and customers.age = discounted_groups.age

),

alive as (

    select
        *,
        case
            when ln_dropout_odds is null then 1
            when ln_dropout_odds > 0
                then
                    {{ ltv_clv_safe_exp('-ln_dropout_odds') }}
                    / (1 + {{ ltv_clv_safe_exp('-ln_dropout_odds') }})
            else 1 / (1 + exp(ln_dropout_odds))
        end as probability_alive,
        p * (v + x * m) / (p * x + q - 1) as expected_order_value
    from scored

),

final as (

    select
        user_id,
        as_of_date,
        cast(probability_alive as {{ double }}) as probability_alive,
        cast(
            expected_purchases_90d * probability_alive as {{ double }}
        ) as expected_purchases_90d,
        cast(
            expected_purchases_365d * probability_alive as {{ double }}
        ) as expected_purchases_365d,
        cast(expected_order_value as {{ double }}) as expected_order_value,
        cast(
            expected_order_value * probability_alive * discounted_purchases_12m
            as {{ double }}
        ) as predicted_clv_12m

    from alive

)

select * from final
