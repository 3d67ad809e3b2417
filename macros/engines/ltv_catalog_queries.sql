{#
    dbt's own catalog queries on DuckDB and PostgreSQL, with their names quoted
    by ltv_string_literal: the adapters paste schema and table names between
    quotes, so a source schema named `sh'op` failed every build with
    `unterminated string literal` before any node ran. dbt looks for these
    macros in the root project first; they differ from the adapters' (dbt-duckdb
    1.11, dbt-postgres 1.11) in the literals only.
#}

{% macro duckdb__list_relations_without_caching(schema_relation) -%}
    {% call statement('list_relations_without_caching', fetch_result=True) -%}
        select
            {{ ltv_string_literal(schema_relation.database) }} as database,
            table_name as name,
            table_schema as schema,
            case table_type
                when 'BASE TABLE' then 'table'
                when 'VIEW' then 'view'
                when 'LOCAL TEMPORARY' then 'table'
            end as type
        from system.information_schema.tables
        where
            lower(table_schema) = {{ ltv_string_literal(schema_relation.schema | lower) }}
            and lower(table_catalog)
            = {{ ltv_string_literal(schema_relation.database | lower) }}
    {%- endcall %}
    {{ return(load_result('list_relations_without_caching').table) }}
{%- endmacro %}

{% macro postgres__list_relations_without_caching(schema_relation) -%}
    {%- set database = ltv_string_literal(schema_relation.database) -%}
    {%- set schema = ltv_string_literal(schema_relation.schema) -%}
    {% call statement('list_relations_without_caching', fetch_result=True) -%}
        select {{ database }} as database, tablename as name, schemaname as schema,
            'table' as type
        from pg_tables where schemaname ilike {{ schema }}
        union all
        select {{ database }} as database, viewname as name, schemaname as schema,
            'view' as type
        from pg_views where schemaname ilike {{ schema }}
        union all
        select {{ database }} as database, matviewname as name, schemaname as schema,
            'materialized_view' as type
        from pg_matviews where schemaname ilike {{ schema }}
        union all
        select distinct {{ database }} as database, proname as name,
            ns.nspname as schema, 'function' as type
        from pg_proc inner join pg_namespace as ns on pronamespace = ns.oid
        where ns.nspname ilike {{ schema }}
    {%- endcall %}
    {{ return(load_result('list_relations_without_caching').table) }}
{%- endmacro %}

{% macro postgres__get_columns_in_relation(relation) -%}
    {% call statement('get_columns_in_relation', fetch_result=True) -%}
        select
            column_name,
            data_type,
            character_maximum_length,
            numeric_precision,
            numeric_scale
        from {{ relation.information_schema('columns') }}
        where
            table_name = {{ ltv_string_literal(relation.identifier) }}
            {%- if relation.schema %}
            and table_schema = {{ ltv_string_literal(relation.schema) }}
            {%- endif %}
        order by ordinal_position
    {%- endcall %}
    {{ return(sql_convert_columns_in_relation(load_result('get_columns_in_relation').table)) }}
{%- endmacro %}

{% macro postgres__check_schema_exists(information_schema, schema) -%}
    {% if information_schema.database -%}
        {{ adapter.verify_database(information_schema.database) }}
    {%- endif %}
    {% call statement('check_schema_exists', fetch_result=True, auto_begin=False) -%}
        select count(*) from pg_namespace where nspname = {{ ltv_string_literal(schema) }}
    {%- endcall %}
    {{ return(load_result('check_schema_exists').table) }}
{%- endmacro %}

{% macro duckdb__check_schema_exists(information_schema, schema) -%}
    {{ return(run_query(
        'select count(*) from system.information_schema.schemata'
        ~ ' where lower(schema_name) = ' ~ ltv_string_literal(schema | lower)
        ~ ' and lower(catalog_name) = '
        ~ ltv_string_literal(information_schema.database | lower)
    )) }}
{%- endmacro %}
