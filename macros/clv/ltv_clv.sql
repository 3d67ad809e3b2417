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

{#-
    The backtest's calibration end (YYYY-MM-DD): the as-of date minus var
    ltv_clv_backtest_holdout_days (default 273, 39 weeks). One rule for the fit's
    plan, int_backtest_customers_predicted and its warning.
-#}
{% macro ltv_clv_calibration_end() -%}
    {%- set holdout_days = var('ltv_clv_backtest_holdout_days', 273) | int -%}
    {{- return((
        modules.datetime.date.fromisoformat(ltv_as_of_date().split("'")[1])
        - modules.datetime.timedelta(days=holdout_days)
    ).isoformat()) -}}
{%- endmacro %}

{#-
    The warning when the backtest has no fit as of its calibration end (clv_backtest
    and its measures are empty then), naming the command to run. `candidates_sql`:
    ltv_clv_candidate_fits_sql(). Called by int_backtest_customers_predicted when
    it runs.
-#}
{% macro ltv_clv_warn_without_calibration_fit(candidates_sql) -%}
    {%- set calibration_end = ltv_clv_calibration_end() -%}
    {%- set found = run_query(
        "select count(*) from (" ~ candidates_sql ~ ") as fits"
        ~ " where fitted_as_of_date = cast('" ~ calibration_end ~ "' as date)"
    ) -%}
    {%- if found.rows[0][0] == 0 -%}
        {%- do exceptions.warn(
            "clv_backtest is empty: there is no CLV fit of source "
            ~ ltv_clv_source_identity() ~ " as of " ~ calibration_end
            ~ " (the as-of date minus var ltv_clv_backtest_holdout_days). Run `make"
            ~ " fit-clv` with this build's DBT_TARGET and DBT_VARS (it fits that date"
            ~ " too), then build again."
        ) -%}
    {%- endif -%}
{%- endmacro %}
