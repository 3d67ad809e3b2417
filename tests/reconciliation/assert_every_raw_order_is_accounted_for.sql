-- Every distinct raw order id is in order_audit exactly once, counted as revenue or
-- with an exclusion reason, and order_audit invents no order id.
with

raw_orders as (

    select distinct order_id from {{ source('shop', 'orders') }}

),

audited_orders as (

    select * from {{ ref('order_audit') }}

),

missing_from_audit as (

    select
        raw_orders.order_id,
        'raw order missing from order_audit' as problem
    from raw_orders
    left join audited_orders
        on raw_orders.order_id = audited_orders.order_id
    where audited_orders.order_id is null

),

unknown_to_source as (

    select
        audited_orders.order_id,
        'order_audit row without a raw order' as problem
    from audited_orders
    left join raw_orders
        on audited_orders.order_id = raw_orders.order_id
    where raw_orders.order_id is null

),

unexplained as (

    select
        order_id,
        'neither revenue nor excluded with a reason' as problem
    from audited_orders
    where not is_revenue and exclusion_reason is null

)

select * from missing_from_audit
union all
select * from unknown_to_source
union all
select * from unexplained
