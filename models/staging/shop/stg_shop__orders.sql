{{ ltv_depends_on_demo_seed("demo_orders") }}
{%- set raw_type = ltv_column_types(source('shop', 'orders')) %}
{%- do ltv_check_raw_columns('orders', raw_type, source('shop', 'orders')) %}

with

source as (

    select * from {{ source('shop', 'orders') }}

),

renamed as (

    select
        ---------- ids
        order_id,
        user_id,

        ---------- strings
        lower(trim(status)) as order_status,
        coalesce(
            nullif(upper(trim(currency)), ''),
            {{ ltv_string_literal(var("ltv_reporting_currency")) }}
        ) as currency_code,

        ---------- numerics
        cast(total_amount as {{ ltv_money_type() }}) as order_amount,

        ---------- dates
        cast(
            {{ ltv_utc_timestamp('created_at', raw_type.get('created_at')) }} as date
        ) as order_date,

        ---------- timestamps
        {{ ltv_utc_timestamp('created_at', raw_type.get('created_at')) }} as ordered_at,
        {{ ltv_utc_timestamp('updated_at', raw_type.get('updated_at')) }} as updated_at

    from source

)

select * from renamed
