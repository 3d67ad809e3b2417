{#-
    BG/NBD probability that a customer is alive, from the fit's r, alpha, a, b (the
    `parameters` CTE) and the customer's x, t_x and T (column expressions).
    ltv_clv_ln_dropout_odds is ln(a / (b + x - 1)) + (r + x) ln((alpha + T) /
    (alpha + t_x)), null for x = 0 (always alive); ltv_clv_probability_alive turns
    it into 1 / (1 + e^odds) without overflow either way.
-#}
{% macro ltv_clv_ln_dropout_odds(x, t_x, age) -%}
    case
        when {{ x }} > 0
            then
                ln(parameters.a / (parameters.b + {{ x }} - 1))
                + (parameters.r + {{ x }}) * ln(
                    (parameters.alpha + {{ age }})
                    / (parameters.alpha + {{ t_x }})
                )
    end
{%- endmacro %}

{% macro ltv_clv_probability_alive(ln_dropout_odds) -%}
    case
        when {{ ln_dropout_odds }} is null then 1
        when {{ ln_dropout_odds }} > 0
            then
                {{ ltv_clv_safe_exp('-(' ~ ln_dropout_odds ~ ')') }}
                / (1 + {{ ltv_clv_safe_exp('-(' ~ ln_dropout_odds ~ ')') }})
        else 1 / (1 + exp({{ ln_dropout_odds }}))
    end
{%- endmacro %}
