{#-
    LTV statistics over each horizon's eligible users, per acquisition channel and
    over all channels, in one pass over the users (grouping sets): ltv_by_channel
    and ltv_summary take their rows from here, so both compute LTV the same way.
    The marts derive the ratios; a horizon or channel without eligible users has
    no row here.
-#}

with

user_horizons as (

    select * from {{ ref('int_user_horizons_unpivoted') }}
    where is_eligible

),

aggregated as (

    select
        horizon,
        acquisition_channel,
        grouping(acquisition_channel) = 1 as is_all_channels,
        count(*) as eligible_users,
        sum(case when orders > 0 then 1 else 0 end) as active_users,
        sum(revenue) as total_revenue,
        sum(orders) as total_orders,
        {{ ltv_percentile_cont('revenue', 0.5) }} as ltv_median,
        {{ ltv_percentile_cont('revenue', 0.95) }} as ltv_p95

    from user_horizons
    -- sqlfluff's DuckDB dialect does not parse grouping sets; the engines do.
    group by grouping sets ((horizon, acquisition_channel), (horizon))  -- noqa: PRS

),

final as (

    select
        ---------- strings
        horizon,
        acquisition_channel,

        ---------- numerics
        cast(eligible_users as bigint) as eligible_users,
        cast(active_users as bigint) as active_users,
        cast(total_revenue as {{ ltv_money_type() }}) as total_revenue,
        cast(total_orders as bigint) as total_orders,
        cast(ltv_median as {{ ltv_money_type() }}) as ltv_median,
        cast(ltv_p95 as {{ ltv_money_type() }}) as ltv_p95,

        ---------- booleans
        is_all_channels

    from aggregated

)

select * from final
