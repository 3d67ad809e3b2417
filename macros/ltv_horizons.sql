{#
    The LTV horizons in report order: name and length in months (none for the
    whole lifetime). Models loop over this list to build horizon columns and rows.
#}
{% macro ltv_horizons() -%}
    {{ return([
        {'name': '3m', 'months': 3},
        {'name': '6m', 'months': 6},
        {'name': '12m', 'months': 12},
        {'name': 'lifetime', 'months': none},
    ]) }}
{%- endmacro %}
