{#
    Whole months m such that add_months(start_date, m) <= end_date <
    add_months(start_date, m + 1), the warehouse's month arithmetic included
    (a Jan 31 start reaches month 1 on Feb 28/29). Negative when end precedes start.
#}
{% macro ltv_months_between(start_date, end_date) -%}
    {%- set calendar_months = dbt.datediff(start_date, end_date, 'month') -%}
    ({{ calendar_months }}
    - case
        when {{ end_date }} < {{ ltv_add_months(start_date, calendar_months) }}
            then 1
        else 0
    end)
{%- endmacro %}
