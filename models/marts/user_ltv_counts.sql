{#-
    The user list's totals, counted once per build: how many users of user_ltv
    have each value of each field the list filters on. A total of one filter
    (analyses/user_list_total.sql) reads one or two rows here instead of counting
    up to every row of user_ltv: a range [low, high) holds
    users_at_or_above(first value >= low) - users_at_or_above(first value >= high).
-#}
{%- set text_fields = ['ltv_segment', 'acquisition_channel'] -%}
{%- set number_fields = [
    'revenue_3m', 'revenue_6m', 'revenue_12m', 'revenue_lifetime', 'orders_lifetime',
] -%}
{{
    config(
        indexes=[
            {'columns': ['filter_field', 'number_value']},
            {'columns': ['filter_field', 'date_value']},
            {'columns': ['filter_field', 'text_value']},
        ] if target.type == 'postgres' else [],
    )
}}

with

users as (

    select * from {{ ref('user_ltv') }}

),

-- One row per field and value (nulls pass no filter, so they are not counted),
-- and one for all users.
values_counted as (

    select
        'all_users' as filter_field,
        cast(null as {{ dbt.type_string() }}) as text_value,
        cast(null as date) as date_value,
        cast(null as {{ ltv_money_type() }}) as number_value,
        count(*) as users

    from users
    {%- for field in text_fields %}

    union all

    select
        '{{ field }}' as filter_field,
        {{ field }} as text_value,
        cast(null as date) as date_value,
        cast(null as {{ ltv_money_type() }}) as number_value,
        count(*) as users

    from users
    where {{ field }} is not null
    group by {{ field }}
    {%- endfor %}

    union all

    select
        'signup_date' as filter_field,
        cast(null as {{ dbt.type_string() }}) as text_value,
        signup_date as date_value,
        cast(null as {{ ltv_money_type() }}) as number_value,
        count(*) as users

    from users
    where signup_date is not null
    group by signup_date
    {%- for field in number_fields %}

    union all

    select
        '{{ field }}' as filter_field,
        cast(null as {{ dbt.type_string() }}) as text_value,
        cast(null as date) as date_value,
        cast({{ field }} as {{ ltv_money_type() }}) as number_value,
        count(*) as users

    from users
    where {{ field }} is not null
    group by {{ field }}
    {%- endfor %}

),

final as (

    select
        filter_field,
        text_value,
        date_value,
        number_value,
        {{ ltv_as_of_date() }} as as_of_date,
        cast(users as bigint) as users,
        -- Within a field only one of the value columns is set.
        cast(sum(users) over (
            partition by filter_field
            order by text_value desc, date_value desc, number_value desc
            rows between unbounded preceding and current row
        ) as bigint) as users_at_or_above

    from values_counted

)

select * from final
