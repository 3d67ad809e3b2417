{#- The first day of the month of a date, as a date (date_trunc gives a timestamp). -#}
{% macro ltv_month_start(date_expr) -%}
    {{ return(adapter.dispatch('ltv_month_start', 'ltv')(date_expr)) }}
{%- endmacro %}

{% macro default__ltv_month_start(date_expr) -%}
    cast({{ dbt.date_trunc('month', date_expr) }} as date)
{%- endmacro %}

{#-
    PostgreSQL resolves date_trunc on a date to its timestamptz variant, which
    goes through the session's time zone: a third slower over the 5M revenue
    days of the cohorts at 1M users. A timestamp gives the same month start.
-#}
{% macro postgres__ltv_month_start(date_expr) -%}
    cast(date_trunc('month', cast({{ date_expr }} as timestamp)) as date)
{%- endmacro %}
