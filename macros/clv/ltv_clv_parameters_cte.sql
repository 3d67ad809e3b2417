{#-
    CTE `parameters` (and a trailing comma): one row with the parameters of
    `models` ('bg_nbd': r, alpha, a, b; 'gamma_gamma': p, q, v) from the rows
    (model, parameter, value) of CTE `fit_cte`, none without a complete fit. Used
    by user_clv, int_rfm_groups_scored and int_backtest_customers_predicted.
-#}
{% macro ltv_clv_parameters_cte(
    fit_cte='clv_model_parameters', models=['bg_nbd', 'gamma_gamma']
) -%}
{%- set names = {'bg_nbd': ['r', 'alpha', 'a', 'b'], 'gamma_gamma': ['p', 'q', 'v']} -%}
{%- set wanted = [] -%}
{%- for model in models -%}
    {%- for parameter in names[model] -%}
        {%- do wanted.append((model, parameter)) -%}
    {%- endfor -%}
{%- endfor -%}
parameters as (

    select
        {%- for model, parameter in wanted %}
        max(
            case
                when model = '{{ model }}' and parameter = '{{ parameter }}'
                    then value
            end
        ) as {{ parameter }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ fit_cte }}
    where model in ({{ ltv_quoted_list(models) }})
    having count(*) = {{ wanted | length }}

),
{%- endmacro %}
