-- A revenue order in a foreign currency needs that currency's rate for its order
-- month in seed `fx_rates`. Each failing row names the currency and the month.
{{ config(severity='error') }}

with

classified as (

    select * from {{ ref('int_orders_classified') }}

)

select
    currency_code,
    {{ ltv_month_start('order_date') }} as order_month,
    count(*) as revenue_orders_without_rate

from classified

where
    is_revenue
    and amount_usd is null

group by currency_code, {{ ltv_month_start('order_date') }}
