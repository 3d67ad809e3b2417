with

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

ranked as (

    select
        orders.*,
        count(*) over (partition by orders.order_id) as source_row_count,
        -- The latest version wins: updated_at, else created_at. The remaining keys
        -- only make the choice deterministic between equally recent versions.
        row_number() over (
            partition by orders.order_id
            order by
                coalesce(orders.updated_at, orders.ordered_at) desc nulls last,
                orders.updated_at desc nulls last,
                orders.order_status asc nulls last,
                orders.order_amount desc nulls last,
                orders.currency_code asc,
                orders.user_id asc nulls last,
                orders.ordered_at desc nulls last
        ) as version_rank

    from orders

),

latest_versions as (

    select * from ranked
    where version_rank = 1

)

select
    order_id,
    user_id,
    order_status,
    currency_code,
    order_amount,
    source_row_count,
    order_date,
    ordered_at,
    updated_at
from latest_versions
