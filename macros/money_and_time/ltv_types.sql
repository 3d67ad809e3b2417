{#
    Column types shared by models and contracts. Money is an exact decimal wide
    enough for converted amounts (2-decimal amounts times 6-decimal rates) and
    their sums, so nothing is rounded before display.
#}
{% macro ltv_money_type() -%}
    decimal(38, 12)
{%- endmacro %}

{#-
    Exchange rates: 14 decimals keep 9 or more significant digits of the smallest
    ECB units (old Turkish lira, about 3e-6 USD), and a 12-decimal amount times a
    rate stays within DuckDB's 38 digits.
-#}
{% macro ltv_fx_rate_type() -%}
    decimal(24, 14)
{%- endmacro %}
