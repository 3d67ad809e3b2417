{%- set revenue_statuses = var('ltv_revenue_statuses') | map('trim') | map('lower') -%}

with

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

users as (

    select * from {{ ref('stg_shop__users') }}

),

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

joined as (

    select
        orders.*,
        users.signup_date,
        fx_rates.usd_per_unit,
        users.user_id is not null as has_known_user

    from orders

    left join users
        on orders.user_id = users.user_id

    left join fx_rates
        on
            orders.currency_code = upper(trim(fx_rates.currency))
            and {{ ltv_month_start('orders.order_date') }} = fx_rates.rate_month

),

classified as (

    select
        *,

        -- Why the order can never count, whatever the as-of date.
        case
            when user_id is null then 'missing_user_id'
            when order_date is null then 'missing_order_date'
            when order_amount is null then 'missing_amount'
            when order_amount < 0 then 'negative_amount'
            when not has_known_user then 'unknown_user'
            when signup_date is null then 'user_without_signup_date'
        end as invalid_reason,

        -- Why a valid order waits for a later as-of date.
        case
            when
                order_date >= {{ ltv_as_of_date() }}
                then 'ordered_on_or_after_as_of_date'
            when
                signup_date >= {{ ltv_as_of_date() }}
                then 'user_signed_up_on_or_after_as_of_date'
        end as unobserved_reason,

        coalesce(
            order_status in ({{ ltv_quoted_list(revenue_statuses) }}), false
        ) as has_revenue_status,

        case
            when currency_code = '{{ var("ltv_reporting_currency") }}' then order_amount
            else order_amount * usd_per_unit
        end as amount_usd

    from joined

),

final as (

    select
        ---------- ids
        order_id,
        user_id,

        ---------- strings
        order_status,
        currency_code,
        -- The first failing check names why an order earns no revenue.
        coalesce(
            invalid_reason,
            unobserved_reason,
            case when not has_revenue_status then 'non_revenue_status' end
        ) as exclusion_reason,

        ---------- numerics
        order_amount,
        usd_per_unit,
        cast(amount_usd as {{ ltv_money_type() }}) as amount_usd,
        source_row_count,

        ---------- booleans
        invalid_reason is null
        and unobserved_reason is null
        and has_revenue_status as is_revenue,
        -- Revenue as soon as the window covers the order's date and its user.
        invalid_reason is null and has_revenue_status as is_revenue_once_observed,

        ---------- dates
        order_date,
        signup_date,

        ---------- timestamps
        ordered_at,
        updated_at

    from classified

)

select * from final
