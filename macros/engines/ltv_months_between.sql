{#
    Whole months m such that add_months(start_date, m) <= end_date <
    add_months(start_date, m + 1), the warehouse's month arithmetic included
    (a Jan 31 start reaches month 1 on Feb 28/29). Negative when end precedes start.
#}
{% macro ltv_months_between(start_date, end_date) -%}
    {%- set calendar_months = ltv_calendar_months_between(start_date, end_date) -%}
    ({{ calendar_months }}
    - case
        when {{ end_date }} < {{ ltv_add_months(start_date, calendar_months) }}
            then 1
        else 0
    end)
{%- endmacro %}

{#- The month boundaries crossed from start_date to end_date (Jan 31 -> Feb 1: 1). -#}
{% macro ltv_calendar_months_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('ltv_calendar_months_between', 'ltv')(
        start_date, end_date
    )) }}
{%- endmacro %}

{% macro default__ltv_calendar_months_between(start_date, end_date) -%}
    {{ dbt.datediff(start_date, end_date, 'month') }}
{%- endmacro %}

{#-
    dbt-spark's datediff(month) estimates from months_between (31-day months);
    count the calendar months crossed exactly, as DuckDB and PostgreSQL do.
-#}
{% macro spark__ltv_calendar_months_between(start_date, end_date) -%}
    ((year({{ end_date }}) - year({{ start_date }})) * 12
    + month({{ end_date }}) - month({{ start_date }}))
{%- endmacro %}
