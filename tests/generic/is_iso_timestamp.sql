{#
    Fails with every non-null value whose text form is not an ISO 8601 timestamp
    (macro ltv_iso_timestamp_pattern): text that does not parse, and values that
    parse into the wrong thing, like PostgreSQL's 'yesterday' or 'infinity'.
#}
{% test is_iso_timestamp(model, column_name) %}
{{- ltv_depends_on_demo_raw_tables() }}

select {{ column_name }} as invalid_value
from {{ model }}
where
    {{ column_name }} is not null
    and not {{ ltv_regex_matches(
        'cast(' ~ column_name ~ ' as ' ~ dbt.type_string() ~ ')',
        ltv_iso_timestamp_pattern(),
    ) }}

{% endtest %}
