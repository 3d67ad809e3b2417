{#- A jinja list of strings as a SQL list body: 'a', 'b'. -#}
{% macro ltv_quoted_list(values) -%}
    {%- for value in values -%}
        '{{ value }}'{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
