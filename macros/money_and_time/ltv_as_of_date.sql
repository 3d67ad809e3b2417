{#
    The exclusive end of the observation window as a SQL date literal: var
    `ltv_as_of_date` (YYYY-MM-DD) or, when it is null, the UTC day the run
    started, so that every model of one build sees the same date. A date after
    the build's day is refused: its horizons would look complete unobserved.
    Models read it while dbt parses: it checks every var first (ltv_check_vars).
#}
{% macro ltv_as_of_date() -%}
    {%- do ltv_check_vars() -%}
    {%- set as_of = var('ltv_as_of_date') -%}
    {%- if as_of is none or as_of == '' -%}
        {%- set as_of = run_started_at.strftime('%Y-%m-%d') -%}
    {%- endif -%}
    {#- A date after the build's day would count days not yet observed as complete. -#}
    {%- if (as_of | string) > run_started_at.strftime('%Y-%m-%d') -%}
        {{ exceptions.raise_compiler_error(
            "var ltv_as_of_date is " ~ as_of ~ ", after the day of this build ("
            ~ run_started_at.strftime('%Y-%m-%d') ~ " UTC): the window would hold days"
            ~ " not yet observed. Use a date up to today, or leave the var null."
        ) }}
    {%- endif -%}
    cast('{{ as_of }}' as date)
{%- endmacro %}

{#- The time this dbt invocation started (UTC), as a SQL timestamp literal. -#}
{% macro ltv_run_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}
