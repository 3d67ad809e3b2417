{%- set horizons = ltv_horizons() -%}

with

users as (

    select * from {{ ref('int_users_aggregated') }}

),

-- Users whose 3-month window is complete are ranked; the others are 'New'.
ranked_revenues as (

    select
        revenue_lifetime,
        count(*) as users_at_revenue

    from users
    where is_3m_complete
    group by revenue_lifetime

),

-- percent_rank() of each revenue among the ranked users, computed as the window
-- function does: users with less revenue / (ranked users - 1), 0 for a single
-- user. Ties share the rank. Ranking the distinct revenues, not every user,
-- spares a sort of the whole user table.
revenue_ranks as (

    select
        revenue_lifetime,
        case
            when sum(users_at_revenue) over () > 1
                then cast(
                    sum(users_at_revenue) over (
                        order by revenue_lifetime
                        rows between unbounded preceding and current row
                    ) - users_at_revenue
                    as {{ ltv_double_type() }}
                )
                / cast(sum(users_at_revenue) over () - 1 as {{ ltv_double_type() }})
            else 0
        end as lifetime_revenue_rank

    from ranked_revenues

),

-- The rank only grows with revenue: each segment starts at a revenue floor.
segment_floors as (

    select
        min(
            case
                when lifetime_revenue_rank >= {{ var('ltv_segment_vip_min_rank') }}
                    then revenue_lifetime
            end
        ) as vip_min_revenue,
        min(
            case
                when lifetime_revenue_rank >= {{ var('ltv_segment_high_min_rank') }}
                    then revenue_lifetime
            end
        ) as high_min_revenue,
        min(
            case
                when lifetime_revenue_rank >= {{ var('ltv_segment_medium_min_rank') }}
                    then revenue_lifetime
            end
        ) as medium_min_revenue

    from revenue_ranks

),

segmented as (

    select
        users.*,
        case
            when not users.is_3m_complete then 'New'
            when users.revenue_lifetime >= segment_floors.vip_min_revenue then 'VIP'
            when users.revenue_lifetime >= segment_floors.high_min_revenue then 'High'
            when users.revenue_lifetime >= segment_floors.medium_min_revenue
                then 'Medium'
            else 'Low'
        end as ltv_segment

    from users

    cross join segment_floors

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
