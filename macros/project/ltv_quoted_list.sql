{#- A jinja list of strings as a SQL list body: 'a', 'b' (ltv_string_literal). -#}
{% macro ltv_quoted_list(values) -%}
    {%- for value in values -%}
        {{ ltv_string_literal(value) }}{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
