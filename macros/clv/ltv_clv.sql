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
            "select cast(" ~ ltv_string_literal(row['source_identity']) ~ " as "
            ~ dbt.type_string() ~ ") as source_identity, cast('" ~ row['model'] ~ "' as "
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
            ~ " where source_identity = " ~ ltv_string_literal(identity)
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
