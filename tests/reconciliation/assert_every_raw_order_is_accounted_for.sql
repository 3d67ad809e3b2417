-- Every distinct raw order id is in order_audit exactly once, counted as revenue or
-- with an exclusion reason, and order_audit invents no order id. One full outer
-- join: order_audit is a view over every raw row, so each extra pass repeats the
-- deduplication.
with

raw_orders as (

    select distinct order_id from {{ source('shop', 'orders') }}

),

audited_orders as (

    select * from {{ ref('order_audit') }}

),

compared as (

    select
        coalesce(raw_orders.order_id, audited_orders.order_id) as order_id,
        case
            when audited_orders.order_id is null
                then 'raw order missing from order_audit'
            when raw_orders.order_id is null
                then 'order_audit row without a raw order'
            when
                not audited_orders.is_revenue
                and audited_orders.exclusion_reason is null
                then 'neither revenue nor excluded with a reason'
        end as problem

    from raw_orders
    full outer join audited_orders
        on raw_orders.order_id = audited_orders.order_id

)

select * from compared
where problem is not null
