{%- set buckets = ltv_revenue_buckets() -%}

with

user_horizons as (

    select * from {{ ref('int_user_horizons_unpivoted') }}
    where is_eligible

),

horizons as (

    {{ ltv_horizon_rows() }}

),

buckets as (

    {%- for bucket in buckets %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        {{ bucket.order }} as bucket_order,
        '{{ bucket.label }}' as bucket_label,
        {{ bucket.lower }} as lower_bound,
        {{ bucket.upper if bucket.upper is not none else 'null' }} as upper_bound
    {%- endfor %}

),

grid as (

    select
        horizons.horizon,
        buckets.bucket_order,
        buckets.bucket_label,
        buckets.lower_bound,
        buckets.upper_bound

    from horizons

    cross join buckets

),

bucketed as (

    select
        horizon,
        revenue,
        case
            when revenue = 0 then 0
            {%- for bucket in buckets[1:] %}
            {%- if bucket.upper is not none %}
            when revenue < {{ bucket.upper }} then {{ bucket.order }}
            {%- else %}
            else {{ bucket.order }}
            {%- endif %}
            {%- endfor %}
        end as bucket_order

    from user_horizons

),

aggregated as (

    select
        horizon,
        bucket_order,
        count(*) as users,
        sum(revenue) as revenue

    from bucketed
    group by horizon, bucket_order

),

-- From the buckets, not another pass over every user: sums of exact decimals.
horizon_totals as (

    select
        horizon,
        sum(users) as users,
        sum(revenue) as revenue

    from aggregated
    group by horizon

),

final as (

    select
        grid.horizon,
        cast(grid.bucket_order as integer) as bucket_order,
        grid.bucket_label,
        cast(grid.lower_bound as {{ ltv_money_type() }}) as lower_bound,
        cast(grid.upper_bound as {{ ltv_money_type() }}) as upper_bound,
        {{ ltv_as_of_date() }} as as_of_date,
        cast(coalesce(aggregated.users, 0) as bigint) as users,
        cast(
            1.0 * coalesce(aggregated.users, 0) / nullif(horizon_totals.users, 0)
            as {{ ltv_double_type() }}
        ) as share_of_users,
        cast(coalesce(aggregated.revenue, 0) as {{ ltv_money_type() }}) as revenue,
        cast(
            coalesce(aggregated.revenue, 0) / nullif(horizon_totals.revenue, 0)
            as {{ ltv_double_type() }}
        ) as share_of_revenue

    from grid

    left join aggregated
        on
            grid.horizon = aggregated.horizon
            and grid.bucket_order = aggregated.bucket_order

    left join horizon_totals
        on grid.horizon = horizon_totals.horizon

)

select * from final
