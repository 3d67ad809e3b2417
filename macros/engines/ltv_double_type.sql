{#- The engine's 8-byte float type. -#}
{% macro ltv_double_type() -%}
    {{ return(adapter.dispatch('ltv_double_type', 'ltv')()) }}
{%- endmacro %}

{% macro default__ltv_double_type() -%}
    double precision
{%- endmacro %}

{% macro spark__ltv_double_type() -%}
    double
{%- endmacro %}
