{#- The classification itself is macros/ltv_order_logic.sql, shared with the
    incremental int_user_revenue_days. -#}

with

orders as (

    select * from {{ ref('int_orders_deduplicated') }}

),

classified as (

    {{ ltv_classify_orders('orders') }}

)

select * from classified
