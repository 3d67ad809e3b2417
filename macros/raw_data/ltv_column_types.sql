{#-
    The data types of `relation`'s columns in lower case, by lower-case column
    name; empty while dbt parses, and for a relation that does not exist yet.
-#}
{% macro ltv_column_types(relation) -%}
    {%- set types = {} -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- set data_type = column.data_type | lower | trim -%}
            {%- do types.update({column.name | lower: data_type}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(types) }}
{%- endmacro %}

{#- Whether a type of ltv_column_types is a timestamp without time zone. -#}
{% macro ltv_is_plain_timestamp_type(data_type) -%}
    {{ return(data_type in ('timestamp', 'timestamp without time zone')) }}
{%- endmacro %}
