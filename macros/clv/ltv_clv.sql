{#
    Predictive CLV (spec, "Predictive CLV"): the identity of a fit's source, the
    fit table that `make fit-clv` (scripts/fit_clv.py) writes, and the scoring
    helpers of user_clv. See DECISIONLOG, Predictive CLV.
#}

{#-
    Which data a fit belongs to: the engine, the database and the raw schema
    (var `ltv_source_schema`). A build scores only with a fit of the same
    identity; the demo's committed fit has the identity 'demo'.
-#}
{% macro ltv_clv_source_identity() -%}
    {{- return(
        target.type ~ ':' ~ (target.database or '') ~ ':' ~ var('ltv_source_schema')
    ) -}}
{%- endmacro %}

{#- The terms of a hypergeometric series at most (user_clv); see DECISIONLOG. -#}
{% macro ltv_clv_max_terms() -%}
    {{- return(50000) -}}
{%- endmacro %}

{#-
    exp() that returns 0 instead of underflowing (PostgreSQL raises on underflow)
    and never overflows: `expression` is clamped at 709 (exp(709) ~ 8e307).
-#}
{% macro ltv_clv_safe_exp(expression) -%}
    case
        when ({{ expression }}) < -700 then 0
        else exp(least({{ expression }}, 709))
    end
{%- endmacro %}

{#-
    `make fit-clv`: store one fit (rows of model, parameter, value,
    fitted_as_of_date, fitted_customers, log_likelihood) for the current source in
    the fit table, replacing an earlier fit of the same source and as-of date.
    The table is rewritten whole (CTAS), which every engine supports, Spark
    without Delta included; it holds a few rows per fit.
-#}
{% macro ltv_clv_store_fit(rows, fitted_as_of_date) -%}
    {%- set identity = ltv_clv_source_identity() -%}
    {%- set fit_source = source('clv', 'clv_fits') -%}
    {%- set relation = api.Relation.create(
        database=fit_source.database,
        schema=fit_source.schema,
        identifier=fit_source.identifier,
    ) -%}
    {%- do adapter.create_schema(relation) -%}
    {%- set existing = load_relation(relation) -%}
    {%- set kept = [] -%}
    {%- if existing is not none -%}
        {%- set old = run_query(
            'select source_identity, model, parameter, value, '
            ~ 'cast(fitted_as_of_date as ' ~ dbt.type_string() ~ ') as fitted_as_of_date, '
            ~ 'fitted_customers, log_likelihood, '
            ~ 'cast(fitted_at as ' ~ dbt.type_string() ~ ') as fitted_at from ' ~ relation
        ) -%}
        {%- for row in old.rows -%}
            {%- if not (row[0] == identity and row[4][:10] == fitted_as_of_date) -%}
                {%- do kept.append({
                    'source_identity': row[0], 'model': row[1], 'parameter': row[2],
                    'value': row[3], 'fitted_as_of_date': row[4][:10],
                    'fitted_customers': row[5], 'log_likelihood': row[6],
                    'fitted_at': row[7][:26],
                }) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set now = modules.datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M:%S') -%}
    {%- for row in rows -%}
        {%- do kept.append({
            'source_identity': identity, 'model': row['model'],
            'parameter': row['parameter'], 'value': row['value'],
            'fitted_as_of_date': fitted_as_of_date,
            'fitted_customers': row['fitted_customers'],
            'log_likelihood': row['log_likelihood'], 'fitted_at': now,
        }) -%}
    {%- endfor -%}
    {%- set selects = [] -%}
    {%- for row in kept -%}
        {%- do selects.append(
            "select cast('" ~ row['source_identity'] ~ "' as " ~ dbt.type_string()
            ~ ") as source_identity, cast('" ~ row['model'] ~ "' as "
            ~ dbt.type_string() ~ ") as model, cast('" ~ row['parameter'] ~ "' as "
            ~ dbt.type_string() ~ ") as parameter, cast(" ~ '%r' % (row['value'] | float)
            ~ " as " ~ ltv_double_type() ~ ") as value, cast('"
            ~ row['fitted_as_of_date'] ~ "' as date) as fitted_as_of_date, cast("
            ~ row['fitted_customers'] ~ " as bigint) as fitted_customers, cast("
            ~ '%r' % (row['log_likelihood'] | float) ~ " as " ~ ltv_double_type()
            ~ ") as log_likelihood, cast('" ~ row['fitted_at']
            ~ "' as timestamp) as fitted_at"
        ) -%}
    {%- endfor -%}
    {%- if existing is not none -%}
        {%- do adapter.drop_relation(existing) -%}
    {%- endif -%}
    {%- call statement('store_clv_fit') -%}
        create table {{ relation }} as {{ selects | join(' union all ') }}
    {%- endcall -%}
    {#- run-operation does not commit on its own (DuckDB, PostgreSQL). -#}
    {%- do adapter.commit() -%}
    {{ log('Stored the CLV fit of ' ~ identity ~ ' as of ' ~ fitted_as_of_date
        ~ ' in ' ~ relation, info=True) }}
{%- endmacro %}

{#-
    The CTEs that compute E(t) / probability_alive (column expected_purchases) per
    distinct (x, age) of CTE `customers` and horizon of CTE `horizons`
    (horizon_days, month_number) with the one row of CTE `parameters`, ending in
    CTE `expected_per_alive` and a trailing comma; the series is described in
    user_clv and DECISIONLOG (Predictive CLV). Used by user_clv and clv_backtest.
-#}
{% macro ltv_clv_expected_purchase_ctes() -%}
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
{%- endmacro %}

{#-
    SQL of every fit that may score this build's source: rows (model, parameter,
    value, fitted_as_of_date, fitted_customers, log_likelihood, fitted_at) of the fit
    table with this source's identity (when the table exists) and, when the source
    is the demo, of the committed demo fit. Never an error: no rows without fits.
-#}
{% macro ltv_clv_candidate_fits_sql() -%}
    {%- set is_demo = var('ltv_source_schema') == 'ltv_demo_raw' -%}
    {%- set identity = ltv_clv_source_identity() -%}
    {%- set fit_table = load_relation(source('clv', 'clv_fits')) if execute else none -%}
    {%- set fit_selects = [] -%}
    {%- if fit_table is not none -%}
        {%- do fit_selects.append(
            "select model, parameter, value, fitted_as_of_date, fitted_customers, "
            ~ "log_likelihood, fitted_at from " ~ source('clv', 'clv_fits')
            ~ " where source_identity = '" ~ identity ~ "'"
        ) -%}
    {%- endif -%}
    {%- if is_demo -%}
        {%- do fit_selects.append(
            "select model, parameter, value, fitted_as_of_date, fitted_customers, "
            ~ "log_likelihood, fitted_at from " ~ ref('demo_clv_fit')
            ~ " where source_identity = 'demo'"
        ) -%}
    {%- endif -%}
    {%- if not fit_selects -%}
        {%- do fit_selects.append(
            "select cast(null as " ~ dbt.type_string() ~ ") as model, cast(null as "
            ~ dbt.type_string() ~ ") as parameter, cast(null as " ~ ltv_double_type()
            ~ ") as value, cast(null as date) as fitted_as_of_date, cast(null as bigint)"
            ~ " as fitted_customers, cast(null as " ~ ltv_double_type()
            ~ ") as log_likelihood, cast(null as timestamp) as fitted_at where 1 = 0"
        ) -%}
    {%- endif -%}
    {{ return(fit_selects | join(' union all ')) }}
{%- endmacro %}
