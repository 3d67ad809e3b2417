with

users as (

    select * from {{ ref('user_ltv') }}

),

segments as (

    {%- for segment in ['VIP', 'High', 'Medium', 'Low', 'New'] %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        '{{ segment }}' as ltv_segment,
        {{ loop.index }} as segment_order
    {%- endfor %}

),

aggregated as (

    select
        ltv_segment,
        count(*) as users,
        sum(revenue_lifetime) as revenue_lifetime,
        min(revenue_lifetime) as min_revenue_lifetime,
        max(revenue_lifetime) as max_revenue_lifetime

    from users
    group by ltv_segment

),

totals as (

    select
        count(*) as users,
        sum(revenue_lifetime) as revenue_lifetime

    from users

),

final as (

    select
        segments.ltv_segment,
        cast(segments.segment_order as integer) as segment_order,
        {{ ltv_as_of_date() }} as as_of_date,
        cast(coalesce(aggregated.users, 0) as bigint) as users,
        cast(
            1.0 * coalesce(aggregated.users, 0) / nullif(totals.users, 0)
            as {{ ltv_double_type() }}
        ) as share_of_users,
        cast(
            coalesce(aggregated.revenue_lifetime, 0) as {{ ltv_money_type() }}
        ) as revenue_lifetime,
        cast(
            coalesce(aggregated.revenue_lifetime, 0)
            / nullif(totals.revenue_lifetime, 0)
            as {{ ltv_double_type() }}
        ) as share_of_revenue,
        cast(
            aggregated.revenue_lifetime / nullif(aggregated.users, 0)
            as {{ ltv_money_type() }}
        ) as ltv_mean_lifetime,
        cast(aggregated.min_revenue_lifetime as {{ ltv_money_type() }})
            as min_revenue_lifetime,
        cast(aggregated.max_revenue_lifetime as {{ ltv_money_type() }})
            as max_revenue_lifetime

    from segments

    cross join totals

    left join aggregated
        on segments.ltv_segment = aggregated.ltv_segment

)

select * from final
