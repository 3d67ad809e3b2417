{#
    date_expr + n calendar months, as a date. The warehouse clamps to the end of
    the month (Jan 31 + 1 month = Feb 28/29); dbt.dateadd returns a timestamp on
    every engine, hence the cast back.
#}
{% macro ltv_add_months(date_expr, n) -%}
    cast({{ dbt.dateadd('month', n, date_expr) }} as date)
{%- endmacro %}
