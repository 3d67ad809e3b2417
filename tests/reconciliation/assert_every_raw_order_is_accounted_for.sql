-- Every distinct raw order id is in order_audit exactly once, either counted as
-- revenue or left out with one of the accepted reasons, and order_audit invents
-- no order id. One test for all of these per-order checks: order_audit is a view
-- over every raw row, so each test on it repeats the deduplication of the raw
-- orders (DECISIONLOG, Data tests at scale).
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
] %}

with

raw_orders as (

    select distinct order_id from {{ source('shop', 'orders') }}

),

audited_orders as (

    select * from {{ ref('order_audit') }}

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
                then 'raw order missing from order_audit'
            when raw_orders.order_id is null
                then 'order_audit row without a raw order'
            when audited_ids.audit_rows > 1
                then 'order id more than once in order_audit'
            else audited_ids.row_problem
        end as problem

    from raw_orders
    full outer join audited_ids
        on raw_orders.order_id = audited_ids.order_id

)

select * from compared
where problem is not null
