{#- Fails (one row) unless the model has exactly `expected` rows. -#}
{% test has_row_count(model, expected) %}

select
    count(*) as actual_rows,
    {{ expected }} as expected_rows
from {{ model }}
having count(*) != {{ expected }}

{% endtest %}
