{#
    Fails on every row where `expression` is not true (false or null), so a
    row invariant is written once in YAML: `expression: "revenue_3m <= revenue_6m"`.
#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not coalesce({{ expression }}, false)

{% endtest %}
