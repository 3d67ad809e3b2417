{#-
    One row per order id: its latest version, by updated_at (created_at where
    updated_at is null). The remaining sort keys only make the choice
    deterministic between equally recent versions; exact duplicates collapse.
-#}
{{ config(materialized='view') }}

with

order_versions as (

    select * from {{ ref('stg_shop__orders') }}

),

ranked as (

    select
        *,
        count(*) over (partition by order_id) as source_row_count,
        row_number() over (
            partition by order_id
            order by
                coalesce(updated_at, ordered_at) desc nulls last,
                updated_at desc nulls last,
                order_status asc nulls last,
                order_amount desc nulls last,
                currency_code asc,
                user_id asc nulls last,
                ordered_at desc nulls last
        ) as version_rank

    from order_versions

),

latest_versions as (

    select
        ---------- ids
        order_id,
        user_id,

        ---------- strings
        order_status,
        currency_code,

        ---------- numerics
        order_amount,
        source_row_count,

        ---------- dates
        order_date,

        ---------- timestamps
        ordered_at,
        updated_at

    from ranked
    where version_rank = 1

)

select * from latest_versions
