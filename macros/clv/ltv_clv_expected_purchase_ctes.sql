{#-
    The CTEs that compute E(t) / probability_alive for each horizon of
    `horizon_days` (a list of whole days) per distinct (x, age) of CTE `customers`,
    with the one row of CTE `parameters`. They end in CTE `expected_per_alive`
    (x, age, expected_purchases_<days>d per horizon) and a trailing comma. Used by
    user_clv and clv_backtest; the series is described in user_clv and DECISIONLOG
    (Predicted CLV).

    Each (x, age) is one row through the series: its terms n = 1..term_count (the
    count its longest horizon needs) are summed for every horizon at once. The
    terms are joined by equality only, so that no engine compares a row with terms
    it does not need: term_count is split into its binary digits, blocks of 2^k
    terms, and each x's coefficients are stored per such block.
-#}
{% macro ltv_clv_expected_purchase_ctes(horizon_days) -%}
{%- set double = ltv_double_type() -%}
{%- set longest = horizon_days | max -%}
{#- Above block_start + block_size, which is at most 2^17. -#}
{%- set block_key_scale = 2 ** 17 -%}
customer_groups as (

    select
        distinct_customers.x,
        distinct_customers.age,
        parameters.a + parameters.b + distinct_customers.x - 1 as c,
        greatest(
            parameters.a - parameters.r - distinct_customers.x - 2, 0
        ) as excess_degree,
        {%- for days in horizon_days %}
        ln(
            cast({{ days }} as {{ double }})
            / (parameters.alpha + distinct_customers.age + {{ days }})
        ) as ln_z_{{ days }}d,
        ln(
            (parameters.alpha + distinct_customers.age)
            / (parameters.alpha + distinct_customers.age + {{ days }})
        ) as ln_one_minus_z_{{ days }}d{{ "," if not loop.last }}
        {%- endfor %}
    from (
        select distinct
            x,
            age
        from customers
    ) as distinct_customers
    cross join parameters

),

-- Terms per horizon until the tail is below e^-40 of the largest: z^n n^excess_degree.
horizon_term_counts as (

    select
        *,
        {%- for days in horizon_days %}
        least(
            {{ ltv_clv_max_terms() }},
            cast(
                ceil(
                    (40 + excess_degree * ln(2 + excess_degree / (-ln_z_{{ days }}d)))
                    / (-ln_z_{{ days }}d)
                    + excess_degree / (-ln_z_{{ days }}d)
                ) as integer
            ) + 10
        ) as term_count_{{ days }}d{{ "," if not loop.last }}
        {%- endfor %}
    from customer_groups

),

-- A tighter count where the terms fall faster than z^n (large x): the ratio of
-- terms n + 1 and n is z (n + u) / (n + c) (n + a - 1) / (n + 1), u = a + b - 1 - r,
-- a product of two factors monotone in n, so their values at n = 1 and n = M
-- bound it on [1, M] (ratio_bound), and those at M and the limit 1 beyond M
-- (tail_ratio_bound). With both below 1, N terms leave a tail below e^-40 of the
-- first term once (N - 1) ln(1 / ratio_bound) >= 40 + ln(1 / (1 - the larger)).
-- M runs over 2, 4, .., 2^16, as columns (no join, which engines misestimate).
convergence_bounds as (

    select
        horizon_term_counts.*,
        {%- for level in range(1, 17) %}
        {%- set m = 2 ** level %}
        exp(horizon_term_counts.ln_z_{{ longest }}d) * greatest(
            abs(
                (parameters.a + parameters.b - parameters.r)
                / (1 + horizon_term_counts.c)
            ),
            abs(
                ({{ m }} + parameters.a + parameters.b - 1 - parameters.r)
                / ({{ m }} + horizon_term_counts.c)
            )
        ) * greatest(
            parameters.a / 2, ({{ m }} + parameters.a - 1) / ({{ m + 1 }})
        ) as ratio_bound_{{ level }},
        exp(horizon_term_counts.ln_z_{{ longest }}d) * greatest(
            abs(
                ({{ m }} + parameters.a + parameters.b - 1 - parameters.r)
                / ({{ m }} + horizon_term_counts.c)
            ),
            1
        ) * greatest(({{ m }} + parameters.a - 1) / ({{ m + 1 }}), 1)
        as tail_ratio_bound_{{ level }}{{ "," if not loop.last }}
        {%- endfor %}
    from horizon_term_counts
    cross join parameters

),

-- The guards keep ln() and the division defined on levels the case then discards.
convergence_candidates as (

    select
        *,
        {%- for level in range(1, 17) %}
        case
            when
                ratio_bound_{{ level }} < 1 and tail_ratio_bound_{{ level }} < 1
                then 1 + ceil(
                    (40 - ln(greatest(
                        1 - greatest(
                            ratio_bound_{{ level }}, tail_ratio_bound_{{ level }}
                        ),
                        1e-300
                    )))
                    / greatest(-ln(ratio_bound_{{ level }}), 1e-300)
                )
        end as candidate_term_count_{{ level }}{{ "," if not loop.last }}
        {%- endfor %}
    from convergence_bounds

),

term_counts as (

    select
        *,
        least(
            term_count_{{ longest }}d
            {%- for level in range(1, 17) %},
            case
                when candidate_term_count_{{ level }} <= {{ 2 ** level }}
                    then cast(candidate_term_count_{{ level }} as integer)
                else {{ ltv_clv_max_terms() }}
            end
            {%- endfor %}
        ) as term_count
    from convergence_candidates

),

-- The binary digits of a term count: blocks of block_size = 2^k terms, k < 16.
term_bits as (

    select cast(power(2, generated_number - 1) as integer) as block_size
    from ({{ dbt.generate_series(16) }}) as bit_numbers

),

term_numbers as (

    {{ dbt.generate_series(ltv_clv_max_terms()) }}

),

-- Factor k = n - 1 of each Pochhammer symbol of term n, per distinct x.
factors as (

    select
        x_terms.x,
        x_terms.term_count as x_term_count,
        cast(term_numbers.generated_number as integer) as n,
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
        x_term_count,
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

-- Each coefficient in every block it belongs to: terms block_start + 1 to
-- block_start + block_size, block_start a multiple of 2 * block_size, so that
-- block_start + block_size names the block. The join key block_key is x and that
-- name in one number (x is a whole number): an engine that joined on x alone
-- would compare every row of an x with every coefficient of it. Both block sets
-- are grouped on their keys, which no engine merges into the join.
coefficient_blocks as (

    select
        block_key,
        n,
        max(ln_abs_coefficient) as ln_abs_coefficient,
        max(negative_factors) as negative_factors,
        max(zero_factors) as zero_factors
    from (
        select
            coefficients.x * {{ block_key_scale }}
            + coefficients.n - 1
            - (coefficients.n - 1) % (2 * term_bits.block_size)
            + term_bits.block_size as block_key,
            coefficients.n,
            coefficients.ln_abs_coefficient,
            coefficients.negative_factors,
            coefficients.zero_factors
        from coefficients
        cross join term_bits
        where
            term_bits.block_size <= coefficients.x_term_count
            and (coefficients.n - 1) % (2 * term_bits.block_size)
            < term_bits.block_size
    ) as blocked
    group by block_key, n

),

-- Terms 1..term_count as blocks, one per binary digit of term_count, with what
-- the series and E(t) need of their (x, age).
term_blocks as (

    select
        block_key,
        x,
        age,
        max(c) as c,
        {%- for days in horizon_days %}
        max(ln_z_{{ days }}d) as ln_z_{{ days }}d,
        max(ln_one_minus_z_{{ days }}d) as ln_one_minus_z_{{ days }}d,
        max(term_count_{{ days }}d) as term_count_{{ days }}d
        {{- "," if not loop.last }}
        {%- endfor %}
    from (
        select
            term_counts.*,
            term_counts.x * {{ block_key_scale }}
            + term_counts.term_count
            - term_counts.term_count % (2 * term_bits.block_size)
            + term_bits.block_size as block_key
        from term_counts
        cross join term_bits
        where
            term_counts.term_count % (2 * term_bits.block_size)
            >= term_bits.block_size
    ) as blocked
    group by block_key, x, age

),

-- The transformed series per (x, age), each horizon summing only the terms it needs.
series as (

    select
        term_blocks.x,
        term_blocks.age,
        max(term_blocks.c) as c,
        {%- for days in horizon_days %}
        max(term_blocks.ln_one_minus_z_{{ days }}d) as ln_one_minus_z_{{ days }}d,
        sum(
            case
                when
                    coefficient_blocks.zero_factors > 0
                    or coefficient_blocks.n > term_blocks.term_count_{{ days }}d
                    then 0
                else
                    (1 - 2 * (coefficient_blocks.negative_factors % 2))
                    * {{ ltv_clv_safe_exp(
                        'coefficient_blocks.ln_abs_coefficient'
                        ~ ' + coefficient_blocks.n * term_blocks.ln_z_' ~ days ~ 'd'
                    ) }}
            end
        ) as series_sum_{{ days }}d{{ "," if not loop.last }}
        {%- endfor %}
    from term_blocks
    inner join coefficient_blocks
        on term_blocks.block_key = coefficient_blocks.block_key
    group by term_blocks.x, term_blocks.age

),

-- E(t) / probability_alive per (x, T) and horizon; u = (a - 1) ln(1 - z).
expected_per_alive as (

    select
        series.x,
        series.age,
        {%- for days in horizon_days %}
        {%- set u = '(parameters.a - 1) * series.ln_one_minus_z_' ~ days ~ 'd' %}
        series.c * (
            case
                when abs({{ u }}) < 1e-4
                    then -series.ln_one_minus_z_{{ days }}d * (
                        1
                        + {{ u }} / 2
                        + power({{ u }}, 2) / 6
                        + power({{ u }}, 3) / 24
                        + power({{ u }}, 4) / 120
                    )
                else (1 - {{ ltv_clv_safe_exp(u) }}) / (parameters.a - 1)
            end
            - case
                when series.series_sum_{{ days }}d = 0 then 0
                else
                    sign(series.series_sum_{{ days }}d) * {{ ltv_clv_safe_exp(
                        u ~ ' + ln(abs(series.series_sum_' ~ days ~ 'd))'
                    ) }}
            end
        ) as expected_purchases_{{ days }}d{{ "," if not loop.last }}
        {%- endfor %}
    from series
    cross join parameters

),
{%- endmacro %}
