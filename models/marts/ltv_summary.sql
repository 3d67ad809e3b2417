with

overall as (

    select
        *,
        -- At full precision: the marts round once, at the end.
        1.0 * active_users / eligible_users as active_share,
        total_revenue / eligible_users as ltv_mean

    from {{ ref('int_horizons_aggregated') }}
    where is_all_channels

),

horizons as (

    {{ ltv_horizon_rows() }}

),

final as (

    select
        horizons.horizon,
        horizons.horizon_months,
        {{ ltv_as_of_date() }} as as_of_date,
        cast(coalesce(overall.eligible_users, 0) as bigint) as eligible_users,
        cast(coalesce(overall.active_users, 0) as bigint) as active_users,
        cast(overall.active_share as {{ ltv_double_type() }}) as active_share,
        cast(coalesce(overall.total_revenue, 0) as {{ ltv_money_type() }})
            as total_revenue,
        cast(coalesce(overall.total_orders, 0) as bigint) as total_orders,
        cast(overall.ltv_mean as {{ ltv_money_type() }}) as ltv_mean,
        cast(overall.ltv_median as {{ ltv_money_type() }}) as ltv_median,
        cast(overall.ltv_p95 as {{ ltv_money_type() }}) as ltv_p95,
        cast(
            overall.total_revenue / nullif(overall.total_orders, 0)
            as {{ ltv_money_type() }}
        ) as aov,
        cast(
            1.0 * overall.total_orders / nullif(overall.eligible_users, 0)
            as {{ ltv_double_type() }}
        ) as orders_per_user,
        cast(
            overall.ltv_mean / {{ var('ltv_to_cac_target') }}
            as {{ ltv_money_type() }}
        ) as recommended_max_cac

    from horizons

    left join overall
        on horizons.horizon = overall.horizon

)

select * from final
