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

groups_by_horizon as (

    select
        x_age_groups.x,
        x_age_groups.age,
        horizons.horizon_days,
        horizons.month_number,
        parameters.a + parameters.b + x_age_groups.x - 1 as c,
        ln(
            horizons.horizon_days
            / (parameters.alpha + x_age_groups.age + horizons.horizon_days)
        ) as ln_z,
        ln(
            (parameters.alpha + x_age_groups.age)
            / (parameters.alpha + x_age_groups.age + horizons.horizon_days)
        ) as ln_one_minus_z,
        greatest(parameters.a - parameters.r - x_age_groups.x - 2, 0) as excess_degree
    from (select distinct
        x,
        age
    from customers) as x_age_groups
    cross join horizons
    cross join parameters

),

-- Terms until the tail is below e^-40 of the largest: z^n n^excess_degree.
term_counts as (

    select
        *,
        least(
            {{ ltv_clv_max_terms() }},
            cast(
                ceil(
                    (40 + excess_degree * ln(2 + excess_degree / (-ln_z)))
                    / (-ln_z)
                    + excess_degree / (-ln_z)
                ) as integer
            ) + 10
        ) as term_count
    from groups_by_horizon

),

-- Rows join the coefficients of their x by term_level, 2^term_level >= term_count:
-- an equality join that reads at most twice the terms a row needs.
leveled_term_counts as (

    select
        *,
        cast(ceil(ln(term_count) / ln(2)) as integer) as term_level
    from term_counts

),

levels as (

    select distinct
        x,
        term_level
    from leveled_term_counts

),

term_numbers as (

    {{ dbt.generate_series(ltv_clv_max_terms()) }}

),

-- Factor k = n - 1 of each Pochhammer symbol of term n, per distinct x.
factors as (

    select
        x_terms.x,
        term_numbers.generated_number as n,
        parameters.a + parameters.b - 1 - parameters.r
        + term_numbers.generated_number - 1 as upper_factor,
        x_terms.c + term_numbers.generated_number - 1 as lower_factor,
        case
            when term_numbers.generated_number >= 2
                then ln(parameters.a + term_numbers.generated_number - 2)
            else 0
        end as ln_a_factor
    from (
        select
            x,
            c,
            max(term_count) as term_count
        from term_counts
        group by x, c
    ) as x_terms
    inner join term_numbers
        on x_terms.term_count >= term_numbers.generated_number
    cross join parameters

),

-- ln |coefficient| of z^n, its count of negative factors and of zero factors.
coefficients as (

    select
        x,
        n,
        sum(
            ln(case when upper_factor = 0 then 1 else abs(upper_factor) end)
            - ln(case when lower_factor = 0 then 1 else abs(lower_factor) end)
            - ln(n)
            + ln_a_factor
        ) over (
            partition by x order by n rows between unbounded preceding and current row
        ) as ln_abs_coefficient,
        sum(
            case when upper_factor < 0 then 1 else 0 end
            + case when lower_factor < 0 then 1 else 0 end
        ) over (
            partition by x order by n rows between unbounded preceding and current row
        ) as negative_factors,
        sum(
            case when upper_factor = 0 or lower_factor = 0 then 1 else 0 end
        ) over (
            partition by x order by n rows between unbounded preceding and current row
        ) as zero_factors
    from factors

),

coefficients_by_level as (

    select
        coefficients.*,
        levels.term_level
    from coefficients
    inner join levels
        on
            coefficients.x = levels.x
            and coefficients.n <= power(2, levels.term_level)

),

series as (

    select
        leveled_term_counts.x,
        leveled_term_counts.age,
        leveled_term_counts.horizon_days,
        sum(
            case
                when coefficients_by_level.zero_factors > 0 then 0
                else
                    (1 - 2 * (coefficients_by_level.negative_factors % 2))
                    * {{ ltv_clv_safe_exp(
                        'coefficients_by_level.ln_abs_coefficient'
                        ~ ' + coefficients_by_level.n * leveled_term_counts.ln_z'
                    ) }}
            end
        ) as series_sum
    from leveled_term_counts
    inner join coefficients_by_level
        on
            leveled_term_counts.x = coefficients_by_level.x
            and leveled_term_counts.term_level = coefficients_by_level.term_level
            and leveled_term_counts.term_count >= coefficients_by_level.n
    group by
        leveled_term_counts.x,
        leveled_term_counts.age,
        leveled_term_counts.horizon_days

),

-- E(t) / probability_alive per (x, T) and horizon; u = (a - 1) ln(1 - z).
expected_per_alive as (

    select
        term_counts.x,
        term_counts.age,
        term_counts.horizon_days,
        term_counts.month_number,
        term_counts.c * (
            case
                when abs((parameters.a - 1) * term_counts.ln_one_minus_z) < 1e-4
                    then -term_counts.ln_one_minus_z * (
                        1
                        + (parameters.a - 1) * term_counts.ln_one_minus_z / 2
                        + power((parameters.a - 1) * term_counts.ln_one_minus_z, 2) / 6
                        + power((parameters.a - 1) * term_counts.ln_one_minus_z, 3) / 24
                        + power((parameters.a - 1) * term_counts.ln_one_minus_z, 4)
                        / 120
                    )
                else
                    (1 - {{ ltv_clv_safe_exp(
                        '(parameters.a - 1) * term_counts.ln_one_minus_z'
                    ) }}) / (parameters.a - 1)
            end
            - case
                when series.series_sum = 0 then 0
                else
                    sign(series.series_sum) * {{ ltv_clv_safe_exp(
                        '(parameters.a - 1) * term_counts.ln_one_minus_z'
                        ~ ' + ln(abs(series.series_sum))'
                    ) }}
            end
        ) as expected_purchases
    from term_counts
    inner join series
        on
            term_counts.x = series.x
            and term_counts.age = series.age
            and term_counts.horizon_days = series.horizon_days
    cross join parameters

),

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
