{#-
    PostgreSQL indexes for the analysts' usual questions (the contract's primary
    key already indexes user_id): the top users of a segment by 12-month revenue,
    and users of a signup range, ranked by lifetime revenue (walking that index in
    order stops after the page asked for). Each costs about 0.6 s per build at 1M
    users: an index that serves none of these is left out.
-#}
{{
    config(
        indexes=[
            {'columns': ['ltv_segment', 'revenue_12m']},
            {'columns': ['signup_date']},
            {'columns': ['revenue_lifetime']},
        ] if target.type == 'postgres' else []
    )
}}

{%- set horizons = ltv_horizons() -%}

with

users as (

    select * from {{ ref('int_users_revenue_by_horizon') }}

),

ranked as (

    select
        *,
        -- Users whose 3-month window is still open are 'New' and not ranked.
        case
            when is_3m_complete
                then percent_rank() over (
                    partition by is_3m_complete
                    order by revenue_lifetime
                )
        end as lifetime_revenue_rank

    from users

),

segmented as (

    select
        *,
        case
            when not is_3m_complete then 'New'
            when lifetime_revenue_rank >= {{ var('ltv_segment_vip_min_rank') }}
                then 'VIP'
            when lifetime_revenue_rank >= {{ var('ltv_segment_high_min_rank') }}
                then 'High'
            when lifetime_revenue_rank >= {{ var('ltv_segment_medium_min_rank') }}
                then 'Medium'
            else 'Low'
        end as ltv_segment

    from ranked

),

final as (

    -- Columns in the order of the published contract.
    select
        user_id,
        signup_date,
        {{ ltv_month_start('signup_date') }} as signup_month,
        acquisition_channel,
        {{ ltv_as_of_date() }} as as_of_date,
        {{ ltv_days_between('signup_date', ltv_as_of_date()) }} as tenure_days,
        {%- for horizon in horizons %}
        revenue_{{ horizon.name }},
        {%- endfor %}
        {%- for horizon in horizons %}
        orders_{{ horizon.name }},
        {%- endfor %}
        {%- for horizon in horizons %}
        cast(
            revenue_{{ horizon.name }} / nullif(orders_{{ horizon.name }}, 0)
            as {{ ltv_money_type() }}
        ) as aov_{{ horizon.name }},
        {%- endfor %}
        {%- for horizon in horizons if horizon.months %}
        is_{{ horizon.name }}_complete,
        {%- endfor %}
        first_order_date,
        last_order_date,
        {{ ltv_days_between('last_order_date', ltv_as_of_date()) }}
            as days_since_last_order,
        ltv_segment

    from segmented

)

select * from final
