{#- The first day of the month of a date, as a date (date_trunc gives a timestamp). -#}
{% macro ltv_month_start(date_expr) -%}
    cast({{ dbt.date_trunc('month', date_expr) }} as date)
{%- endmacro %}
