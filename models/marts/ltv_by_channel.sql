with

per_channel as (

    select
        *,
        -- At full precision: the marts round once, at the end.
        1.0 * active_users / eligible_users as active_share,
        total_revenue / eligible_users as ltv_mean

    from {{ ref('int_horizons_aggregated') }}
    where not is_all_channels

),

channel_cac as (

    select * from {{ ref('channel_cac') }}

),

horizons as (

    {{ ltv_horizon_rows() }}

),

-- Every user is eligible for the lifetime horizon, so its rows name every channel
-- of user_ltv.
channels as (

    select acquisition_channel
    from per_channel
    where horizon = 'lifetime'

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

final as (

    select
        channel_horizons.acquisition_channel,
        channel_horizons.horizon,
        channel_horizons.horizon_months,
        {{ ltv_as_of_date() }} as as_of_date,
        cast(coalesce(per_channel.eligible_users, 0) as bigint) as eligible_users,
        cast(coalesce(per_channel.active_users, 0) as bigint) as active_users,
        cast(per_channel.active_share as {{ ltv_double_type() }}) as active_share,
        cast(
            coalesce(per_channel.total_revenue, 0) as {{ ltv_money_type() }}
        ) as total_revenue,
        cast(per_channel.ltv_mean as {{ ltv_money_type() }}) as ltv_mean,
        cast(per_channel.ltv_median as {{ ltv_money_type() }}) as ltv_median,
        cast(channel_cac.cac as {{ ltv_money_type() }}) as cac,
        cast(
            per_channel.ltv_mean / nullif(channel_cac.cac, 0) as {{ ltv_double_type() }}
        ) as ltv_to_cac,
        cast(
            per_channel.ltv_mean / {{ var('ltv_to_cac_target') }}
            as {{ ltv_money_type() }}
        ) as recommended_max_cac

    from channel_horizons

    left join per_channel
        on
            channel_horizons.acquisition_channel = per_channel.acquisition_channel
            and channel_horizons.horizon = per_channel.horizon

    left join channel_cac
        on channel_horizons.acquisition_channel = channel_cac.acquisition_channel

)

select * from final
