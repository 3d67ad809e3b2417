{#
    A custom schema is an absolute name, not a suffix of the target schema: the
    only node that sets one is the demo data, which must land exactly in the
    schema that var `ltv_source_schema` names by default (`ltv_demo_raw`).
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
