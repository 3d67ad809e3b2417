{#
    A text as a SQL string literal, quoted by the engine's rules: a quote in a
    status, a currency or a schema name is data, never SQL. Every var or name that
    reaches SQL as a literal goes through this one macro.
#}
{% macro ltv_string_literal(value) -%}
    {{ return(adapter.dispatch('ltv_string_literal', 'ltv')(value)) }}
{%- endmacro %}

{#- DuckDB and PostgreSQL (standard strings): a quote doubles, a backslash is data. -#}
{% macro default__ltv_string_literal(value) -%}
    {{ return("'" ~ value | string | replace("'", "''") ~ "'") }}
{%- endmacro %}

{#- Spark reads a backslash as an escape: both it and the quote are escaped. -#}
{% macro spark__ltv_string_literal(value) -%}
    {{ return(
        "'" ~ value | string | replace('\\', '\\\\') | replace("'", "\\'") ~ "'"
    ) }}
{%- endmacro %}
