{#-
    BG/NBD and Gamma-Gamma scores of every user of user_rfm with the fit of
    clv_model_parameters (empty without one). E(t) uses the Euler transformation:
    with z = t / (alpha + T + t), C = a + b + x - 1,
    E(t) = C [(1 - (1-z)^(a-1)) / (a-1) - (1-z)^(a-1) G] * probability_alive,
    G = sum over n >= 1 of (a+b-1-r)_n (a)_(n-1) / ((C)_n n!) z^n, which is
    2F1(a+b-1-r, a-1; C; z) = 1 + (a-1) G without the factor a - 1, so a = 1 is
    no special case. Its small upper parameters make it converge fast for large x;
    each (x, T) sums only the terms its convergence needs, at most
    ltv_clv_max_terms(). The series depends on x and T only: it is computed once
    per distinct (x, T), for the 13 horizons together, in int_rfm_groups_scored
    (macro ltv_clv_expected_purchase_ctes), and joined back to the users here.
-#}
{%- set double = ltv_double_type() -%}

with

user_rfm as (

    select * from {{ ref('user_rfm') }}

),

clv_model_parameters as (

    select * from {{ ref('clv_model_parameters') }}

),

int_rfm_groups_scored as (

    select * from {{ ref('int_rfm_groups_scored') }}

),

{{ ltv_clv_parameters_cte() }}

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

-- ln of a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x), for x > 0.
scored as (

    select
        customers.user_id,
        customers.as_of_date,
        customers.x,
        customers.m,
        int_rfm_groups_scored.expected_purchases_90d,
        int_rfm_groups_scored.expected_purchases_365d,
        int_rfm_groups_scored.discounted_purchases_12m,
        parameters.p,
        parameters.q,
        parameters.v,
        {{ ltv_clv_ln_dropout_odds('customers.x', 'customers.t_x', 'customers.age') }}
            as ln_dropout_odds
    from customers
    cross join parameters
    inner join int_rfm_groups_scored
        on
            customers.x = int_rfm_groups_scored.frequency
            and customers.age = int_rfm_groups_scored.t

),

alive as (

    select
        *,
        {{ ltv_clv_probability_alive('ln_dropout_odds') }} as probability_alive,
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
