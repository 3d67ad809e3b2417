{#-
    The one scan of the orders per run: revenue per user and order day, for every
    valid revenue-status order whatever the as-of date (the marts filter by it),
    and every user, a user without revenue day holding one row with a null
    order_date. Incremental: a run recomputes only the users touched by order
    versions or signups newer than the table's watermark, whole (delete+insert by
    user), so refunds and late payments replace what the user had; every user when
    the inputs changed (other raw tables, statuses, currency or rates). The
    deduplication and the order rules are int_orders_deduplicated's and
    int_orders_classified's (macros/ltv_order_logic.sql), without the source row
    count the audit needs; the checks on the user (known, with a signup date) are
    the join to users at the end.
-#}
-- depends_on: {{ ref('fx_rates') }}
{{ ltv_incremental_by_user() }}

{%- set inputs_fingerprint = ltv_inputs_fingerprint() %}
{%- set incremental = is_incremental() and ltv_inputs_unchanged(inputs_fingerprint) %}

with

users as (

    select * from {{ ref('stg_shop__users') }}

),

{% if incremental %}

{%- set changed_since = ltv_incremental_watermark() %}

-- Both timestamps of a version, not their coalesce: PostgreSQL estimates from the
-- columns' statistics that few versions are newer, and plans accordingly.
changed_orders as (

    select distinct order_versions.order_id
    from {{ ref('stg_shop__orders') }} as order_versions
    where
        order_versions.updated_at > {{ changed_since }}
        or (
            order_versions.updated_at is null
            and order_versions.ordered_at > {{ changed_since }}
        )

),

-- Every version counts: a new version may move an order to another user.
affected_users as (

    select order_versions.user_id
    from {{ ref('stg_shop__orders') }} as order_versions
    where
        order_versions.order_id in (
            select changed_orders.order_id from changed_orders
        )
    union
    select users.user_id
    from users
    where users.signed_up_at > {{ changed_since }}

),

-- Every version of every order an affected user has or had, filtered before the
-- deduplication window: the same logic as int_orders_deduplicated, on these only.
affected_order_versions as (

    select order_versions.*
    from {{ ref('stg_shop__orders') }} as order_versions
    where order_versions.order_id in (
        select versions_of_affected_users.order_id
        from {{ ref('stg_shop__orders') }} as versions_of_affected_users
        where versions_of_affected_users.user_id in (
            select affected_users.user_id from affected_users
        )
    )

),

affected_latest_versions as (

    {{ ltv_latest_order_versions(
        'affected_order_versions', with_source_row_count=false
    ) }}

),

revenue_orders as (

    {{ ltv_revenue_orders('affected_latest_versions') }}

),

{% else %}

order_versions as (

    select * from {{ ref('stg_shop__orders') }}

),

latest_versions as (

    {{ ltv_latest_order_versions('order_versions', with_source_row_count=false) }}

),

revenue_orders as (

    {{ ltv_revenue_orders('latest_versions') }}

),

{% endif %}

revenue_days as (

    select
        user_id,
        order_date,
        sum(amount_usd) as revenue,
        count(*) as orders,
        max(coalesce(updated_at, ordered_at)) as last_changed_at

    from revenue_orders
    group by user_id, order_date

),

final as (

    select
        users.user_id,
        users.signup_date,
        revenue_days.order_date,
        cast(coalesce(revenue_days.revenue, 0) as {{ ltv_money_type() }}) as revenue,
        cast(coalesce(revenue_days.orders, 0) as bigint) as orders,
        case
            when revenue_days.last_changed_at > users.signed_up_at
                then revenue_days.last_changed_at
            else coalesce(users.signed_up_at, revenue_days.last_changed_at)
        end as last_changed_at,
        -- When this run rewrote the user's rows: int_user_revenue_totals picks
        -- them up from here, a refunded user's empty row included.
        {{ ltv_run_started_at() }} as processed_at,
        {{ inputs_fingerprint }} as inputs_fingerprint

    from users

    -- Orders of unknown users stay out; a user without a signup date earns none.
    left join revenue_days
        on
            users.user_id = revenue_days.user_id
            and users.signup_date is not null

    {%- if incremental %}

    where users.user_id in (select affected_users.user_id from affected_users)
    {%- endif %}

)

select * from final
