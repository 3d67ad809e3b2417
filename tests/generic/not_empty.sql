{#- Fails (one row) when the model has no rows: an empty raw table is a failed load. -#}
{% test not_empty(model) %}
{{- ltv_depends_on_demo_raw_tables() }}

select 0 as actual_rows
where not exists (select 1 from {{ model }})

{% endtest %}
