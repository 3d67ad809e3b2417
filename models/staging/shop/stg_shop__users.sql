{{ ltv_depends_on_demo_seed("demo_users") }}
{%- set raw_type = ltv_column_types(source('shop', 'users')) %}
{%- do ltv_check_raw_columns('users', raw_type, source('shop', 'users')) %}

with

source as (

    select * from {{ source('shop', 'users') }}

),

renamed as (

    select
        ---------- ids
        user_id,

        ---------- strings
        coalesce(nullif(lower(trim(acquisition_channel)), ''), 'unknown')
            as acquisition_channel,

        ---------- dates
        cast(
            {{ ltv_utc_timestamp('created_at', raw_type.get('created_at')) }} as date
        ) as signup_date,

        ---------- timestamps
        {{ ltv_utc_timestamp('created_at', raw_type.get('created_at')) }}
            as signed_up_at

    from source

)

select * from renamed
