{#
    Layers in schemas of their own: a custom schema is a suffix of the target
    schema (dbt's default), so marts land in `ltv`, staging in `ltv_staging` and
    intermediate models in `ltv_intermediate`. The one exception is the source
    schema itself: the demo raw tables land exactly in the schema var
    `ltv_source_schema` names (`ltv_demo_raw`), which the demo seeds fill.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif custom_schema_name | trim == var('ltv_source_schema') -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
