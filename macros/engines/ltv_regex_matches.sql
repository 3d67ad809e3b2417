{#- Whether the text `expression` matches `pattern` (anchor it with ^ and $). -#}
{% macro ltv_regex_matches(expression, pattern) -%}
    {{ return(adapter.dispatch('ltv_regex_matches', 'ltv')(expression, pattern)) }}
{%- endmacro %}

{% macro default__ltv_regex_matches(expression, pattern) -%}
    ({{ expression }} ~ {{ ltv_string_literal(pattern) }})
{%- endmacro %}

{% macro spark__ltv_regex_matches(expression, pattern) -%}
    ({{ expression }} rlike {{ ltv_string_literal(pattern) }})
{%- endmacro %}
