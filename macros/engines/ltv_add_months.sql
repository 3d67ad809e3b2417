{#
    date_expr + n calendar months, as a date. The warehouse clamps to the end of
    the month (Jan 31 + 1 month = Feb 28/29); dbt.dateadd returns a timestamp on
    every engine, hence the cast back.
#}
{% macro ltv_add_months(date_expr, n) -%}
    {{ return(adapter.dispatch('ltv_add_months', 'ltv')(date_expr, n)) }}
{%- endmacro %}

{% macro default__ltv_add_months(date_expr, n) -%}
    cast({{ dbt.dateadd('month', n, date_expr) }} as date)
{%- endmacro %}

{#-
    Spark's add_months takes a date and an int and returns a date, clamped to the
    month end like the others (dbt-spark's dateadd goes through unix timestamps).
-#}
{% macro spark__ltv_add_months(date_expr, n) -%}
    add_months({{ date_expr }}, {{ n }})
{%- endmacro %}
