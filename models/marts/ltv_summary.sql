with

user_horizons as (

    select * from {{ ref('int_user_horizons_unpivoted') }}
    where is_eligible

),

horizons as (

    {{ ltv_horizon_rows() }}

),

aggregated as (

    select
        horizon,
        {{ ltv_horizon_statistics() }}

    from user_horizons
    group by horizon

),

final as (

    select
        horizons.horizon,
        horizons.horizon_months,
        {{ ltv_as_of_date() }} as as_of_date,
        cast(coalesce(aggregated.eligible_users, 0) as bigint) as eligible_users,
        cast(coalesce(aggregated.active_users, 0) as bigint) as active_users,
        cast(aggregated.active_share as {{ ltv_double_type() }}) as active_share,
        cast(coalesce(aggregated.total_revenue, 0) as {{ ltv_money_type() }})
            as total_revenue,
        cast(coalesce(aggregated.total_orders, 0) as bigint) as total_orders,
        cast(aggregated.ltv_mean as {{ ltv_money_type() }}) as ltv_mean,
        cast(aggregated.ltv_median as {{ ltv_money_type() }}) as ltv_median,
        cast(aggregated.ltv_p95 as {{ ltv_money_type() }}) as ltv_p95,
        cast(
            aggregated.total_revenue / nullif(aggregated.total_orders, 0)
            as {{ ltv_money_type() }}
        ) as aov,
        cast(
            1.0 * aggregated.total_orders / nullif(aggregated.eligible_users, 0)
            as {{ ltv_double_type() }}
        ) as orders_per_user,
        cast(
            aggregated.ltv_mean / {{ var('ltv_to_cac_target') }}
            as {{ ltv_money_type() }}
        ) as recommended_max_cac

    from horizons

    left join aggregated
        on horizons.horizon = aggregated.horizon

)

select * from final
