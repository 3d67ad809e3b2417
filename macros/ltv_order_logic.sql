{#
    The order logic, as selects over a CTE of stg_shop__orders rows (or of
    deduplicated ones). int_orders_deduplicated and int_orders_classified apply
    it to every order and explain each one (order_audit). int_user_revenue_days
    applies the same rules: in an incremental run to the order versions of the
    users it recomputes only, since no engine pushes that filter through the
    deduplication window; and without the join to users, which it joins once
    itself, at the end.
#}

{#-
    The latest version of each order in `order_versions` and, unless
    `with_source_row_count` is false, how many rows the order had.
-#}
{% macro ltv_latest_order_versions(order_versions, with_source_row_count=true) -%}
    {{ return(adapter.dispatch('ltv_latest_order_versions', 'ltv')(
        order_versions, with_source_row_count
    )) }}
{%- endmacro %}

{#-
    Which version of an order wins: the first in this order. The latest wins:
    updated_at, else created_at. The remaining keys only make the choice
    deterministic between equally recent ones.
-#}
{% macro ltv_order_version_precedence() -%}
    coalesce(updated_at, ordered_at) desc nulls last,
    updated_at desc nulls last,
    order_status asc nulls last,
    order_amount desc nulls last,
    currency_code asc,
    user_id asc nulls last,
    ordered_at desc nulls last
{%- endmacro %}

{#-
    The columns of a kept version, with `source_row_count` (its expression) unless
    `with_source_row_count` is false.
-#}
{% macro ltv_latest_version_columns(with_source_row_count, source_row_count) -%}
    order_id,
    user_id,
    order_status,
    currency_code,
    order_amount,
    {%- if with_source_row_count %}
    {{ source_row_count }} as source_row_count,
    {%- endif %}
    order_date,
    ordered_at,
    updated_at
{%- endmacro %}

{% macro default__ltv_latest_order_versions(order_versions, with_source_row_count) -%}
    select
        {{ ltv_latest_version_columns(with_source_row_count, 'source_row_count') }}

    from (

        select
            *,
            {%- if with_source_row_count %}
            count(*) over (partition by order_id) as source_row_count,
            {%- endif %}
            row_number() over (
                partition by order_id
                order by {{ ltv_order_version_precedence() }}
            ) as version_rank

        from {{ order_versions }}

    ) as ranked

    where version_rank = 1
{%- endmacro %}

{#-
    PostgreSQL keeps the first row of each order with DISTINCT ON: at 8M order
    rows about 1.5 s faster than numbering every row and filtering.
-#}
{% macro postgres__ltv_latest_order_versions(order_versions, with_source_row_count) -%}
    select distinct on (order_id)
        {{ ltv_latest_version_columns(
            with_source_row_count, 'count(*) over (partition by order_id)'
        ) }}

    from {{ order_versions }}

    order by
        order_id,
        {{ ltv_order_version_precedence() }}
{%- endmacro %}

{#- Why the order itself can never count (null when it may), whatever its user. -#}
{% macro ltv_order_invalid_reason() -%}
    case
        when user_id is null then 'missing_user_id'
        when order_date is null then 'missing_order_date'
        when order_amount is null then 'missing_amount'
        when order_amount < 0 then 'negative_amount'
    end
{%- endmacro %}

{#- Whether the order's status is one of var ltv_revenue_statuses. -#}
{% macro ltv_has_revenue_status() -%}
    {%- set revenue_statuses = var('ltv_revenue_statuses') | map('trim') | map('lower') -%}
    coalesce(order_status in ({{ ltv_quoted_list(revenue_statuses) }}), false)
{%- endmacro %}

{#- Each order of `orders` with its FX rate and its amount in the reporting currency. -#}
{% macro ltv_orders_in_reporting_currency(orders) -%}
    select
        orders.*,
        fx_rates.usd_per_unit,
        case
            when orders.currency_code = '{{ var("ltv_reporting_currency") }}'
                then orders.order_amount
            else orders.order_amount * fx_rates.usd_per_unit
        end as amount_usd

    from {{ orders }} as orders

    left join {{ ref('fx_rates') }} as fx_rates
        on
            orders.currency_code = upper(trim(fx_rates.currency))
            and {{ ltv_month_start('orders.order_date') }} = fx_rates.rate_month
{%- endmacro %}

{#-
    The orders of `orders` (deduplicated) that earn revenue once the as-of date
    covers them, as far as the order itself tells: the caller keeps those of
    users with a signup date (int_orders_classified's last two checks).
-#}
{% macro ltv_revenue_orders(orders) -%}
    select
        user_id,
        order_date,
        cast(amount_usd as {{ ltv_money_type() }}) as amount_usd,
        ordered_at,
        updated_at

    from ({{ ltv_orders_in_reporting_currency(orders) }}) as orders_in_usd

    where
        {{ ltv_order_invalid_reason() }} is null
        and {{ ltv_has_revenue_status() }}
{%- endmacro %}

{#-
    Each order of `orders` (deduplicated) with its user's signup date, its amount
    in the reporting currency, and whether, or why not, it earns revenue.
-#}
{% macro ltv_classify_orders(orders) -%}
    select
        ---------- ids
        order_id,
        user_id,

        ---------- strings
        order_status,
        currency_code,
        -- The first failing check names why an order earns no revenue.
        coalesce(
            invalid_reason,
            unobserved_reason,
            case when not has_revenue_status then 'non_revenue_status' end
        ) as exclusion_reason,

        ---------- numerics
        order_amount,
        usd_per_unit,
        cast(amount_usd as {{ ltv_money_type() }}) as amount_usd,
        source_row_count,

        ---------- booleans
        invalid_reason is null
        and unobserved_reason is null
        and has_revenue_status as is_revenue,
        -- Revenue as soon as the window covers the order's date and its user.
        invalid_reason is null and has_revenue_status as is_revenue_once_observed,

        ---------- dates
        order_date,
        signup_date,

        ---------- timestamps
        ordered_at,
        updated_at

    from (

        select
            *,

            -- Why the order can never count, whatever the as-of date.
            coalesce(
                {{ ltv_order_invalid_reason() }},
                case
                    when not has_known_user then 'unknown_user'
                    when signup_date is null then 'user_without_signup_date'
                end
            ) as invalid_reason,

            -- Why a valid order waits for a later as-of date.
            case
                when
                    order_date >= {{ ltv_as_of_date() }}
                    then 'ordered_on_or_after_as_of_date'
                when
                    signup_date >= {{ ltv_as_of_date() }}
                    then 'user_signed_up_on_or_after_as_of_date'
            end as unobserved_reason,

            {{ ltv_has_revenue_status() }} as has_revenue_status

        from (

            select
                orders_in_usd.*,
                users.signup_date,
                users.user_id is not null as has_known_user

            from ({{ ltv_orders_in_reporting_currency(orders) }}) as orders_in_usd

            left join {{ ref('stg_shop__users') }} as users
                on orders_in_usd.user_id = users.user_id

        ) as joined

    ) as classified
{%- endmacro %}
