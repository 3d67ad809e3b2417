{#-
    The rates the project converts with, one per currency and month: those of the shop
    (seed own_fx_rates) where given, else those of the demo (demo source only), else
    the ECB reference rates (seed ecb_fx_rates, from make fx-rates).
-#}
{%- set is_demo = var('ltv_source_schema') == 'ltv_demo_raw' %}

with

own_rates as (

    select * from {{ ref('own_fx_rates') }}

),

{% if is_demo -%}
demo_rates as (

    select * from {{ ref('demo_fx_rates') }}

),

{% endif -%}
ecb_rates as (

    select * from {{ ref('ecb_fx_rates') }}

),

candidates as (

    select
        upper(trim(currency)) as currency,
        rate_month,
        usd_per_unit,
        1 as precedence
    from own_rates

    union all

    {% if is_demo -%}
    select
        upper(trim(currency)) as currency,
        rate_month,
        usd_per_unit,
        2 as precedence
    from demo_rates

    union all

    {% endif -%}
    select
        upper(trim(currency)) as currency,
        rate_month,
        usd_per_unit,
        3 as precedence
    from ecb_rates

),

ranked as (

    select
        *,
        row_number() over (
            partition by currency, rate_month order by precedence
        ) as precedence_rank

    from candidates

),

final as (

    select
        ---------- strings
        cast(currency as {{ dbt.type_string() }}) as currency,

        ---------- numerics
        cast(usd_per_unit as {{ ltv_fx_rate_type() }}) as usd_per_unit,

        ---------- dates
        cast(rate_month as date) as rate_month,

        ---------- strings
        case precedence
            when 1 then 'own_fx_rates'
            when 2 then 'demo_fx_rates'
            else 'ecb_fx_rates'
        end as rate_source

    from ranked
    where precedence_rank = 1

)

select * from final
