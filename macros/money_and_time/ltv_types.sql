{#
    Column types shared by models and contracts. Money is an exact decimal wide
    enough for converted amounts (2-decimal amounts times 6-decimal rates) and
    their sums, so nothing is rounded before display.
#}
{% macro ltv_money_type() -%}
    decimal(38, 12)
{%- endmacro %}
