{#
    dbt's accepted_values, with each value quoted by ltv_string_literal: dbt's own
    pastes the value between quotes, so a status var such as "it's paid" broke the
    test's SQL. A test of the root project takes the place of dbt's of its name.
#}
{% test accepted_values(model, column_name, values, quote=True) %}

with all_values as (

    select
        {{ column_name }} as value_field,
        count(*) as n_records

    from {{ model }}
    group by {{ column_name }}

)

select *
from all_values
where value_field not in (
    {% for value in values -%}
        {{ ltv_string_literal(value) if quote else value }}
        {%- if not loop.last -%},{%- endif %}
    {%- endfor %}
)

{% endtest %}
