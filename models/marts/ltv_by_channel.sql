with

user_horizons as (

    select * from {{ ref('int_user_horizons_unpivoted') }}

),

channel_cac as (

    select * from {{ ref('channel_cac') }}

),

channels as (

    select distinct acquisition_channel
    from {{ ref('int_users_revenue_by_horizon') }}

),

horizons as (

    {{ ltv_horizon_rows() }}

),

-- Every channel of user_ltv gets all four horizons, eligible users or not.
channel_horizons as (

    select
        channels.acquisition_channel,
        horizons.horizon,
        horizons.horizon_months

    from channels

    cross join horizons

),

aggregated as (

    select
        acquisition_channel,
        horizon,
        {{ ltv_horizon_statistics() }}

    from user_horizons
    where is_eligible
    group by acquisition_channel, horizon

),

final as (

    select
        channel_horizons.acquisition_channel,
        channel_horizons.horizon,
        channel_horizons.horizon_months,
        {{ ltv_as_of_date() }} as as_of_date,
        cast(coalesce(aggregated.eligible_users, 0) as bigint) as eligible_users,
        cast(coalesce(aggregated.active_users, 0) as bigint) as active_users,
        cast(aggregated.active_share as {{ ltv_double_type() }}) as active_share,
        cast(
            coalesce(aggregated.total_revenue, 0) as {{ ltv_money_type() }}
        ) as total_revenue,
        cast(aggregated.ltv_mean as {{ ltv_money_type() }}) as ltv_mean,
        cast(aggregated.ltv_median as {{ ltv_money_type() }}) as ltv_median,
        cast(channel_cac.cac as {{ ltv_money_type() }}) as cac,
        cast(
            aggregated.ltv_mean / nullif(channel_cac.cac, 0) as {{ ltv_double_type() }}
        ) as ltv_to_cac,
        cast(
            aggregated.ltv_mean / {{ var('ltv_to_cac_target') }}
            as {{ ltv_money_type() }}
        ) as recommended_max_cac

    from channel_horizons

    left join aggregated
        on
            channel_horizons.acquisition_channel = aggregated.acquisition_channel
            and channel_horizons.horizon = aggregated.horizon

    left join channel_cac
        on channel_horizons.acquisition_channel = channel_cac.acquisition_channel

)

select * from final
