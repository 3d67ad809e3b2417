{#
    Seeds on Spark. dbt-spark's seed loader has two faults this project meets:
    a `varchar` column type (the seeds' DuckDB and PostgreSQL spelling) is a
    syntax error on Spark, which only knows varchar with a length; and it binds
    values as Python text, so an empty cell becomes the string 'None' (a null
    currency would read as currency 'NONE') and amounts pass through float.
    These overrides of dbt-spark's macros create the table with `string` for
    `varchar`, and insert every cell as an escaped text literal cast to its
    column type (null as null), so the loaded rows equal the other engines'.
#}
{% macro spark__create_csv_table(model, agate_table) -%}
    {%- set column_types = ltv_spark_seed_column_types(model, agate_table) -%}
    {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}

    {%- set sql -%}
        create table {{ this.render() }} (
            {%- for column_name in agate_table.column_names %}
            {{ adapter.quote_seed_column(column_name | string, quote_seed_column) }}
            {{ column_types[loop.index0] }}{{ ',' if not loop.last }}
            {%- endfor %}
        )
        {{ file_format_clause() }}
        {{ partition_cols(label="partitioned by") }}
        {{ clustered_cols(label="clustered by") }}
        {{ location_clause() }}
        {{ comment_clause() }}
    {%- endset -%}

    {%- call statement('_') -%}
        {{ sql }}
    {%- endcall -%}

    {{ return(sql) }}
{%- endmacro %}

{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_types = ltv_spark_seed_column_types(model, agate_table) -%}
    {%- set statements = [] -%}

    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {%- for row in chunk %}
            (
                {%- for value in row -%}
                    {%- if value is none -%}
                        cast(null as {{ column_types[loop.index0] }})
                    {%- else -%}
                        cast('{{ value | string | replace("\\", "\\\\")
                            | replace("'", "\\'") }}'
                            as {{ column_types[loop.index0] }})
                    {%- endif -%}
                    {{- ', ' if not loop.last -}}
                {%- endfor -%}
            ){{ ',' if not loop.last }}
            {%- endfor %}
        {%- endset -%}

        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}

    {#- The SQL of the first batch, for the compiled file. -#}
    {{ return(statements[0] if statements else '') }}
{%- endmacro %}

{#- Each CSV column's type: column_types override or inferred; varchar as string. -#}
{% macro ltv_spark_seed_column_types(model, agate_table) -%}
    {%- set overrides = model['config'].get('column_types', {}) -%}
    {%- set column_types = [] -%}
    {%- for column_name in agate_table.column_names -%}
        {%- set column_type = overrides.get(
            column_name, adapter.convert_type(agate_table, loop.index0)
        ) -%}
        {%- do column_types.append(
            'string' if column_type | lower | trim == 'varchar' else column_type
        ) -%}
    {%- endfor -%}
    {{ return(column_types) }}
{%- endmacro %}
