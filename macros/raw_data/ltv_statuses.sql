{#
    Order statuses. A normalized status (lower(trim())) is either revenue (var
    `ltv_revenue_statuses`), known non-revenue (var `ltv_known_statuses`), or
    unknown: an unknown status earns no revenue, so the build names each one with
    its count, and the shop decides which var it belongs to.
#}

{#- Every status the project knows: revenue and known non-revenue, normalized. -#}
{% macro ltv_known_order_statuses() -%}
    {%- set statuses = [] -%}
    {%- for status in var('ltv_revenue_statuses') + var('ltv_known_statuses') -%}
        {%- set normalized = status | trim | lower -%}
        {%- if normalized not in statuses -%}
            {%- do statuses.append(normalized) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statuses) }}
{%- endmacro %}

{#-
    Post-hook of stg_shop__orders: a warning that names every unknown status with
    its number of distinct orders (a null status counts as unknown), e.g.
    `2 unknown order statuses ...: 'delivered' (1203 orders), 'partially_refunded'
    (88 orders)`. Nothing to run in SQL: it returns an empty hook.
-#}
{% macro ltv_warn_unknown_statuses() -%}
    {%- if execute -%}
        {%- set query -%}
            select
                order_status,
                count(distinct order_id) as orders
            from {{ this }}
            where
                order_status is null
                or order_status not in ({{ ltv_quoted_list(ltv_known_order_statuses()) }})
            group by order_status
            order by orders desc, order_status
        {%- endset -%}
        {%- set rows = run_query(query).rows -%}
        {%- if rows | length > 0 -%}
            {%- set named = [] -%}
            {%- for row in rows -%}
                {%- set status = 'null' if row[0] is none else "'" ~ row[0] ~ "'" -%}
                {%- do named.append(status ~ ' (' ~ row[1] ~ ' orders)') -%}
            {%- endfor -%}
            {%- do exceptions.warn(
                rows | length ~ ' unknown order status(es) in '
                ~ source('shop', 'orders') ~ ', counted as no revenue: '
                ~ named | join(', ')
                ~ '. Add each to var ltv_revenue_statuses (revenue) or var'
                ~ ' ltv_known_statuses (known, no revenue).'
            ) -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
