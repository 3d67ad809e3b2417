{#
    Sources carry no lineage to the seeds that fill them, so `dbt build` could
    read a raw table before the demo seed has loaded it. When the project reads
    the demo schema, this records the seed as an upstream of the staging model.
#}
{% macro ltv_depends_on_demo_seed(seed_name) -%}
    {%- if var('ltv_source_schema') == 'ltv_demo_raw' -%}
        -- depends_on: {{ ref(seed_name) }}
    {%- endif -%}
{%- endmacro %}

{#-
    Tests on the raw tables run before any model: in a demo build they must wait
    for the demo seeds that fill those tables (see ltv_depends_on_demo_seed).
-#}
{% macro ltv_depends_on_demo_raw_tables() -%}
    {{ ltv_depends_on_demo_seed('demo_users') }}
    {{ ltv_depends_on_demo_seed('demo_orders') }}
{%- endmacro %}
