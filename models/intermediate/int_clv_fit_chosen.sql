{#-
    The BG/NBD and Gamma-Gamma fit that user_clv scores with: the latest fit of
    the source of this build (macro ltv_clv_source_identity) with a fitted_as_of_date
    on or before the as-of date, from the table that make fit-clv writes (source
    clv.clv_fits) and, when the source is the demo, from the committed demo fit
    (seed demo_clv_fit); a refit of the same as-of date wins over the demo fit.
    Without such a fit it is empty and the build warns with the command to run; a
    fit older than var ltv_clv_max_fit_age_days before the as-of date warns too.
    Upstream of the marts: int_rfm_groups_scored reads it, and the mart
    clv_model_parameters publishes it. The warnings fire when this model runs.
-#}
{#- A table of seven rows: a view would tie the fit table to this schema. -#}
{{ config(materialized='table') }}
{%- set identity = ltv_clv_source_identity() -%}
{%- set candidates_sql = ltv_clv_candidate_fits_sql() -%}

{%- if execute and model.unique_id in selected_resources -%}
    {%- set found = run_query(
        "select cast(max(fitted_as_of_date) as " ~ dbt.type_string() ~ ") from ("
        ~ candidates_sql ~ ") as fits where fitted_as_of_date <= " ~ ltv_as_of_date()
    ) -%}
    {%- set fitted_as_of = found.rows[0][0] if found.rows else none -%}
    {%- if fitted_as_of is none -%}
        {%- do exceptions.warn(
            "user_clv is empty: there is no CLV fit of source " ~ identity
            ~ " as of " ~ var('ltv_as_of_date') ~ " or earlier. Run `make fit-clv`"
            ~ " with this build's DBT_TARGET and DBT_VARS, then build again."
        ) -%}
    {%- else -%}
        {%- set as_of = modules.datetime.date.fromisoformat(
            ltv_as_of_date().split("'")[1]
        ) -%}
        {%- set age = (as_of - modules.datetime.date.fromisoformat(
            fitted_as_of[:10]
        )).days -%}
        {%- if age > var('ltv_clv_max_fit_age_days', 35) | int -%}
            {%- do exceptions.warn(
                "The CLV fit of source " ~ identity ~ " is " ~ age ~ " days older"
                ~ " than the as-of date (fitted as of " ~ fitted_as_of[:10]
                ~ ", var ltv_clv_max_fit_age_days: "
                ~ var('ltv_clv_max_fit_age_days', 35) ~ "). Refit with `make fit-clv`"
                ~ " with this build's DBT_TARGET and DBT_VARS."
            ) -%}
        {%- endif -%}
    {%- endif -%}
{%- endif -%}

with

candidate_fits as (

    {{ candidates_sql }}

),

-- The newest fit on or before the as-of date; of two, the latest refit.
chosen_fit as (

    select
        fitted_as_of_date,
        fitted_at
    from candidate_fits
    where fitted_as_of_date <= {{ ltv_as_of_date() }}
    order by fitted_as_of_date desc, fitted_at desc
    limit 1

),

-- The spec names the columns parameter and value.
-- noqa: disable=RF04
final as (

    select
        cast(candidate_fits.model as {{ dbt.type_string() }}) as model,
        cast(candidate_fits.parameter as {{ dbt.type_string() }}) as parameter,
        cast(candidate_fits.value as {{ ltv_double_type() }}) as value,
        cast(candidate_fits.fitted_as_of_date as date) as fitted_as_of_date,
        cast(candidate_fits.fitted_customers as bigint) as fitted_customers,
        cast(
            candidate_fits.log_likelihood as {{ ltv_double_type() }}
        ) as log_likelihood

    from candidate_fits
    inner join chosen_fit
        on
            candidate_fits.fitted_as_of_date = chosen_fit.fitted_as_of_date
            and candidate_fits.fitted_at = chosen_fit.fitted_at

)

-- noqa: enable=RF04
select * from final
