{#- The deduplication itself is macros/ltv_order_logic.sql, shared with the
    incremental int_user_revenue_days. -#}

with

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

latest_versions as (

    {{ ltv_latest_order_versions('orders') }}

)

select * from latest_versions
