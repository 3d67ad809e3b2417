{#-
    The BG/NBD and Gamma-Gamma fit that user_clv scores with: the rule (which
    fit, and the warnings when there is none or it is old) lives in
    int_clv_fit_chosen, upstream of the marts, so that the CLV series reads the
    fit there; this mart publishes it.
-#}

with

int_clv_fit_chosen as (

    select * from {{ ref('int_clv_fit_chosen') }}

),

-- The spec names the columns parameter and value.
-- noqa: disable=RF04
final as (

    select
        model,
        parameter,
        value,
        fitted_as_of_date,
        fitted_customers,
        log_likelihood
    from int_clv_fit_chosen

)

-- noqa: enable=RF04
select * from final
