{#-
    Acquisition cost per channel: those of the shop (seed own_channel_cac) and, for the
    demo source only, those of the demo where the shop gives none. A channel without a row
    has a null CAC in ltv_by_channel. Channels compare as lower(trim()).
-#}
{%- set is_demo = var('ltv_source_schema') == 'ltv_demo_raw' %}

with

own_costs as (

    select * from {{ ref('own_channel_cac') }}

),

{% if is_demo -%}
demo_costs as (

    select * from {{ ref('demo_channel_cac') }}

),

{% endif -%}
candidates as (

    select
        lower(trim(acquisition_channel)) as acquisition_channel,
        cac,
        1 as precedence
    from own_costs

    {% if is_demo -%}
    union all

    select
        lower(trim(acquisition_channel)) as acquisition_channel,
        cac,
        2 as precedence
    from demo_costs

    {% endif -%}
),

ranked as (

    select
        *,
        row_number() over (
            partition by acquisition_channel order by precedence
        ) as precedence_rank

    from candidates

),

final as (

    select
        ---------- strings
        cast(acquisition_channel as {{ dbt.type_string() }}) as acquisition_channel,

        ---------- numerics
        cast(cac as {{ ltv_money_type() }}) as cac,

        ---------- strings
        case precedence
            when 1 then 'own_channel_cac'
            else 'demo_channel_cac'
        end as cac_source

    from ranked
    where precedence_rank = 1

)

select * from final
