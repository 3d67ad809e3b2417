-- A revenue order in a foreign currency needs that currency's rate for its order
-- month in seed `fx_rates`. Each failing row names the currency and the month. It
-- runs on int_orders_classified, so a failure skips every mart.
{{ config(severity='error') }}

with

orders as (

    select * from {{ ref('int_orders_classified') }}

)

select
    currency_code,
    {{ ltv_month_start('order_date') }} as order_month,
    count(*) as revenue_orders_without_rate

from orders

where exclusion_reason = 'missing_fx_rate'

group by currency_code, {{ ltv_month_start('order_date') }}
