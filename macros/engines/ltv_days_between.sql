{#
    Whole days from start_date to end_date (both dates), as an integer.
    DuckDB and PostgreSQL subtract dates to an integer day count.
#}
{% macro ltv_days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('ltv_days_between', 'ltv')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__ltv_days_between(start_date, end_date) -%}
    cast({{ end_date }} - {{ start_date }} as integer)
{%- endmacro %}

{#- Spark subtracts dates to an interval; datediff(end, start) is an int. -#}
{% macro spark__ltv_days_between(start_date, end_date) -%}
    datediff({{ end_date }}, {{ start_date }})
{%- endmacro %}
