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

{#- The horizons as rows (horizon, horizon_months): the body of a CTE. -#}
{% macro ltv_horizon_rows() -%}
    {%- for horizon in ltv_horizons() %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        '{{ horizon.name }}' as horizon,
        cast({{ horizon.months or 'null' }} as integer) as horizon_months
    {%- endfor %}
{%- endmacro %}

{#-
    The column of int_users_aggregated that says whether a user counts in
    a horizon's statistics: its completeness flag (every user for lifetime).
-#}
{% macro ltv_horizon_is_eligible(horizon) -%}
    {{ return('is_' ~ horizon.name ~ '_complete' if horizon.months else 'true') }}
{%- endmacro %}
