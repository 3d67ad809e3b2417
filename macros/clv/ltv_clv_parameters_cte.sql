{#-
    CTE `parameters` (and a trailing comma): one row with the seven parameters of
    CTE `clv_model_parameters`, none without a complete fit. Used by user_clv and
    int_rfm_groups_scored.
-#}
{% macro ltv_clv_parameters_cte() -%}
parameters as (

    select
        max(case when model = 'bg_nbd' and parameter = 'r' then value end) as r,
        max(
            case when model = 'bg_nbd' and parameter = 'alpha' then value end
        ) as alpha,
        max(case when model = 'bg_nbd' and parameter = 'a' then value end) as a,
        max(case when model = 'bg_nbd' and parameter = 'b' then value end) as b,
        max(
            case when model = 'gamma_gamma' and parameter = 'p' then value end
        ) as p,
        max(
            case when model = 'gamma_gamma' and parameter = 'q' then value end
        ) as q,
        max(
            case when model = 'gamma_gamma' and parameter = 'v' then value end
        ) as v
    from clv_model_parameters
    having count(*) = 7

),
{%- endmacro %}
