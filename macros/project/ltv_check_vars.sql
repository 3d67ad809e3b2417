{#
    The vars a shop sets, checked before anything reads them: a wrong var gets one
    error that names it and says what it must be, instead of a Python type error
    or a database error deep inside a model (`Could not cast value inf`). The
    macros that read vars while dbt parses (ltv_as_of_date, ltv_revenue_buckets)
    and the on-run-start hook call ltv_check_vars, so the first of them reports
    every wrong var at once.
#}

{#- Whether a value is a number (true and false are not, though Python says so). -#}
{% macro ltv_is_number(value) -%}
    {{ return(value is number and value is not boolean) }}
{%- endmacro %}

{#- Whether a value is a whole number. -#}
{% macro ltv_is_whole_number(value) -%}
    {{ return(ltv_is_number(value) and value == value | int) }}
{%- endmacro %}

{#- Whether a value is a list of non-blank texts. -#}
{% macro ltv_is_text_list(value) -%}
    {%- if value is string or value is not iterable or value is mapping -%}
        {{ return(false) }}
    {%- endif -%}
    {%- for item in value if not (item is string and item | trim) -%}
        {{ return(false) }}
    {%- endfor -%}
    {{ return(true) }}
{%- endmacro %}

{#-
    Whether a text is a real calendar date as YYYY-MM-DD: 2025-13-01 and
    2025-02-30 are not. Jinja cannot catch strptime's error, so it counts days.
-#}
{% macro ltv_is_calendar_date(value) -%}
    {%- set text = value | string -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set year, month, day = text[:4] | int, text[5:7] | int, text[8:] | int -%}
    {%- set is_leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) -%}
    {%- set month_days = [31, 29 if is_leap else 28, 31, 30, 31, 30, 31, 31, 30, 31,
        30, 31] -%}
    {{ return(year >= 1 and 1 <= month <= 12 and 1 <= day <= month_days[month - 1]) }}
{%- endmacro %}

{#- Every wrong var, as sentences that name the var and what it must be. -#}
{% macro ltv_var_problems() -%}
    {%- set problems = [] -%}
    {%- set as_of = var('ltv_as_of_date') -%}
    {%- if as_of not in (none, '') and not ltv_is_calendar_date(as_of) -%}
        {%- do problems.append(
            'ltv_as_of_date must be a calendar date as YYYY-MM-DD (or null for the'
            ~ ' day of the build), got: ' ~ as_of
        ) -%}
    {%- endif -%}
    {%- set source_schema = var('ltv_source_schema') -%}
    {%- if not (source_schema is string and source_schema | trim) -%}
        {%- do problems.append(
            'ltv_source_schema must be the name of the schema holding the raw tables,'
            ~ ' got: ' ~ source_schema
        ) -%}
    {%- endif -%}
    {%- set currency = var('ltv_reporting_currency') -%}
    {%- if not (currency is string and currency | trim) -%}
        {%- do problems.append(
            'ltv_reporting_currency must be a currency code as text (USD), got: '
            ~ currency
        ) -%}
    {%- endif -%}
    {%- for name in ('ltv_revenue_statuses', 'ltv_known_statuses')
        if not ltv_is_text_list(var(name)) -%}
        {%- do problems.append(
            name ~ ' must be a list of order statuses as text (["paid", "shipped"]),'
            ~ ' got: ' ~ var(name)
        ) -%}
    {%- endfor -%}
    {%- if ltv_is_text_list(var('ltv_revenue_statuses'))
        and var('ltv_revenue_statuses') | length == 0 -%}
        {%- do problems.append(
            'ltv_revenue_statuses must name at least one status: without one, no'
            ~ ' order is revenue'
        ) -%}
    {%- endif -%}
    {%- do problems.extend(ltv_segment_cutoff_problems()) -%}
    {%- do problems.extend(ltv_bucket_edge_problems()) -%}
    {%- do problems.extend(ltv_number_var_problems()) -%}
    {{ return(problems) }}
{%- endmacro %}

{#- The segment cut-offs: numbers with 0 < Medium < High < VIP < 1. -#}
{% macro ltv_segment_cutoff_problems() -%}
    {%- set names = ['ltv_segment_medium_min_rank', 'ltv_segment_high_min_rank',
        'ltv_segment_vip_min_rank'] -%}
    {%- set cutoffs = [] -%}
    {%- for name in names -%}
        {%- do cutoffs.append(var(name)) -%}
    {%- endfor -%}
    {%- set is_ordered = cutoffs | reject('number') | list | length == 0
        and cutoffs | select('boolean') | list | length == 0
        and 0 < cutoffs[0] < cutoffs[1] < cutoffs[2] < 1 -%}
    {%- if not is_ordered -%}
        {{ return([
            'ltv_segment_medium_min_rank < ltv_segment_high_min_rank <'
            ~ ' ltv_segment_vip_min_rank must be numbers strictly between 0 and 1'
            ~ ' in this order (Medium below High below VIP), got: '
            ~ cutoffs | join(', ')
        ]) }}
    {%- endif -%}
    {{ return([]) }}
{%- endmacro %}

{#- The bucket edges: numbers, starting at 0, strictly ascending. -#}
{% macro ltv_bucket_edge_problems() -%}
    {%- set edges = var('ltv_bucket_edges') -%}
    {%- set problem = 'ltv_bucket_edges must be a list of numbers that starts at 0 and'
        ~ ' ascends strictly ([0, 50, 100]), got: ' ~ edges -%}
    {%- if edges is string or edges is not iterable or edges is mapping
        or edges | length == 0 -%}
        {{ return([problem]) }}
    {%- endif -%}
    {%- for edge in edges if not ltv_is_number(edge) -%}
        {{ return([problem]) }}
    {%- endfor -%}
    {%- if edges[0] != 0 -%}
        {{ return([problem]) }}
    {%- endif -%}
    {%- for i in range(1, edges | length) if edges[i] <= edges[i - 1] -%}
        {{ return([problem]) }}
    {%- endfor -%}
    {{ return([]) }}
{%- endmacro %}

{#- Vars that are numbers: each with its lowest value and whether it is whole. -#}
{% macro ltv_number_var_problems() -%}
    {%- set problems = [] -%}
    {#- (name, what it must be, whole number?, the value it must exceed or reach) -#}
    {%- for name, must_be, whole, low, low_allowed in [
        ('ltv_to_cac_target', 'a number above 0', false, 0, false),
        ('ltv_freshness_warn_after_days', 'a whole number of days above 0', true, 0,
            false),
        ('ltv_freshness_error_after_days', 'a whole number of days above 0', true, 0,
            false),
        ('ltv_clv_backtest_holdout_days', 'a whole number of days above 0', true, 0,
            false),
        ('ltv_clv_max_fit_age_days', 'a whole number of days, 0 or more', true, 0,
            true),
        ('ltv_clv_monthly_discount_rate', 'a number, 0 or more (0.01 is 1% a month)',
            false, 0, true),
    ] -%}
        {%- set value = var(name) -%}
        {%- set is_kind = ltv_is_whole_number(value) if whole else ltv_is_number(value) -%}
        {%- if not is_kind or value < low or (value == low and not low_allowed) -%}
            {%- do problems.append(name ~ ' must be ' ~ must_be ~ ', got: ' ~ value) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not problems
        and var('ltv_freshness_warn_after_days')
        > var('ltv_freshness_error_after_days') -%}
        {%- do problems.append(
            'ltv_freshness_warn_after_days must not exceed'
            ~ ' ltv_freshness_error_after_days, got: '
            ~ var('ltv_freshness_warn_after_days') ~ ' and '
            ~ var('ltv_freshness_error_after_days')
        ) -%}
    {%- endif -%}
    {{ return(problems) }}
{%- endmacro %}

{#- One compiler error that lists every wrong var; nothing when all are right. -#}
{% macro ltv_check_vars() -%}
    {%- set problems = ltv_var_problems() -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(
            "Wrong vars (set in dbt_project.yml or with --vars):\n  - "
            ~ problems | join('\n  - ')
        ) }}
    {%- endif -%}
{%- endmacro %}
