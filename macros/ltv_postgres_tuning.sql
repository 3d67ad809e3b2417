{#
    PostgreSQL only, for the models dbt materializes as tables (other engines and
    views: nothing). A table dbt has just created has no planner statistics until
    autovacuum gets to it, so the next model plans blind: analyze it at once. The
    default work_mem (4 MB) sends every sort and hash of millions of rows to disk:
    raise it for the model's own transaction (var ltv_postgres_work_mem).
#}

{%- macro ltv_is_postgres_table() -%}
    {{ return(
        target.type == 'postgres'
        and config.get('materialized') in ('table', 'incremental')
    ) }}
{%- endmacro %}

{#- pre-hook -#}
{% macro ltv_postgres_set_work_mem() -%}
    {%- if ltv_is_postgres_table() and var('ltv_postgres_work_mem') -%}
        {%- set work_mem = var('ltv_postgres_work_mem') | string -%}
        {%- if not modules.re.match('^[0-9]+ ?[kMG]B$', work_mem) -%}
            {{ exceptions.raise_compiler_error(
                "var ltv_postgres_work_mem must be a size such as '256MB', got: "
                ~ work_mem
            ) }}
        {%- endif -%}
        set local work_mem = '{{ work_mem }}'
    {%- endif -%}
{%- endmacro %}

{#- post-hook -#}
{% macro ltv_postgres_analyze() -%}
    {%- if ltv_is_postgres_table() -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
