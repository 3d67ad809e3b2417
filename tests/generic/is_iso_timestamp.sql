{#
    Fails with every non-null value whose text form is not an ISO 8601 timestamp
    (macro ltv_iso_timestamp_pattern) on a real calendar day (ltv_is_calendar_day):
    text that does not parse, an impossible date such as 2025-02-30, and values
    that parse into the wrong thing, like PostgreSQL's 'yesterday' or 'infinity'.
    A column typed as a timestamp without time zone prints in that form exactly
    when its value lies in years 1 to 9999, so it is range-checked instead: the
    text round trip cost 11 s per column at 8M orders on PostgreSQL.
#}
{% test is_iso_timestamp(model, column_name) %}
{{- ltv_depends_on_demo_raw_tables() }}

{%- set data_type = ltv_column_types(model).get(column_name | lower) %}

select {{ column_name }} as invalid_value
from {{ model }}
where
    {{ column_name }} is not null
    {%- if ltv_is_plain_timestamp_type(data_type) %}
    and not (
        {{ column_name }} >= cast('0001-01-01 00:00:00' as timestamp)
        and {{ column_name }} <= cast('9999-12-31 23:59:59.999999' as timestamp)
    )
    {%- else %}
    {%- set as_text = 'cast(' ~ column_name ~ ' as ' ~ dbt.type_string() ~ ')' %}
    -- The day is read only from text the pattern admits: its digits are in place.
    and not case
        when {{ ltv_regex_matches(as_text, ltv_iso_timestamp_pattern()) }}
            then {{ ltv_is_calendar_day(as_text) }}
        else false
    end
    {%- endif %}

{% endtest %}
