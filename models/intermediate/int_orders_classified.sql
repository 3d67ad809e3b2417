{#-
    Every order rule in one place: each deduplicated order with the signup date
    of its user, its amount in the reporting currency, and either is_revenue or the first
    reason, in the order below, that it earns no revenue. The revenue marts and
    order_audit both read this table, and the checks that stop a build before the
    marts (FX rates, every raw order accounted for) run on it.
-#}
{{ config(materialized='table') }}

{%- set revenue_statuses = var('ltv_revenue_statuses') | map('trim') | map('lower') %}
{%- set as_of = ltv_as_of_date() %}
{%- set reporting_currency = ltv_string_literal(var('ltv_reporting_currency')) %}

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
        users.user_id is not null as has_known_user,
        coalesce(
            orders.order_status in ({{ ltv_quoted_list(revenue_statuses) }}), false
        ) as has_revenue_status,
        fx_rates.usd_per_unit,
        case
            when orders.currency_code = {{ reporting_currency }}
                then orders.order_amount
            else orders.order_amount * fx_rates.usd_per_unit
        end as amount_usd

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
        case
            -- The order itself can never count.
            when user_id is null then 'missing_user_id'
            when order_date is null then 'missing_order_date'
            when order_amount is null then 'missing_amount'
            when order_amount < 0 then 'negative_amount'
            -- Nor can the order of a user the users table does not date.
            when not has_known_user then 'unknown_user'
            when signup_date is null then 'user_without_signup_date'
            -- A valid order waits for a later as-of date.
            when order_date >= {{ as_of }} then 'ordered_on_or_after_as_of_date'
            when
                signup_date >= {{ as_of }}
                then 'user_signed_up_on_or_after_as_of_date'
            when not has_revenue_status then 'non_revenue_status'
            -- Revenue without a rate: assert_fx_rate_exists_for_revenue_orders
            -- stops the build; a bare `dbt run` still never counts the order.
            when amount_usd is null then 'missing_fx_rate'
        end as exclusion_reason

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
        exclusion_reason,

        ---------- numerics
        order_amount,
        usd_per_unit,
        cast(amount_usd as {{ ltv_money_type() }}) as amount_usd,
        cast(source_row_count as bigint) as source_row_count,

        ---------- booleans
        exclusion_reason is null as is_revenue,

        ---------- dates
        order_date,
        signup_date

    from classified

)

select * from final
