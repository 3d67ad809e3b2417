{#- The length in months of a horizon name column ('3m' -> 3; 'lifetime' -> null). -#}
{% macro ltv_horizon_months(horizon_column) -%}
    case {{ horizon_column }}
        {%- for horizon in ltv_horizons() if horizon.months %}
        when '{{ horizon.name }}' then {{ horizon.months }}
        {%- endfor %}
    end
{%- endmacro %}
