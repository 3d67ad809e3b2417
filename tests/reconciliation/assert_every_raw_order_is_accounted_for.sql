-- Every distinct raw order id is in int_orders_classified (and so in order_audit)
-- exactly once, either counted as revenue or left out with one of the accepted
-- reasons, and no order id is invented. It runs before the marts: a failure
-- skips every one of them.
{%- set accepted_reasons = [
    'missing_user_id',
    'missing_order_date',
    'missing_amount',
    'negative_amount',
    'unknown_user',
    'user_without_signup_date',
    'ordered_on_or_after_as_of_date',
    'user_signed_up_on_or_after_as_of_date',
    'non_revenue_status',
    'missing_fx_rate',
] %}

with

raw_orders as (

    select distinct order_id from {{ source('shop', 'orders') }}

),

audited_orders as (

    select * from {{ ref('int_orders_classified') }}

),

-- One row per audited id; a row problem of any of its rows is kept.
audited_ids as (

    select
        order_id,
        count(*) as audit_rows,
        max(exclusion_reason) as exclusion_reason,
        max(
            case
                when is_revenue and exclusion_reason is not null
                    then 'revenue with an exclusion reason'
                when not is_revenue and exclusion_reason is null
                    then 'neither revenue nor excluded with a reason'
                when is_revenue is null
                    then 'is_revenue is null'
                -- The list renders as one long line.
                when exclusion_reason not in ({{ ltv_quoted_list(accepted_reasons) }})  -- noqa: LT05
                    then 'exclusion reason not accepted'
            end
        ) as row_problem

    from audited_orders
    group by order_id

),

compared as (

    select
        audited_ids.exclusion_reason,
        coalesce(raw_orders.order_id, audited_ids.order_id) as order_id,
        case
            when audited_ids.order_id is null
                then 'raw order missing from int_orders_classified'
            when raw_orders.order_id is null
                then 'classified order without a raw order'
            when audited_ids.audit_rows > 1
                then 'order id more than once in int_orders_classified'
            else audited_ids.row_problem
        end as problem

    from raw_orders
    full outer join audited_ids
        on raw_orders.order_id = audited_ids.order_id

)

select * from compared
where problem is not null
