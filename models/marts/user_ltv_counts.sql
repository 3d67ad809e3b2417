{#-
    The user list's totals, counted once per build: how many users of user_ltv
    have each value of each field the list filters on. A total of one filter
    (analyses/user_list_total.sql) reads one or two rows here instead of counting
    up to every row of user_ltv: a range [low, high) holds
    users_at_or_above(first value >= low) - users_at_or_above(first value >= high).
-#}
{%- set fields = {
    'ltv_segment': 'text', 'acquisition_channel': 'text', 'signup_date': 'date',
    'revenue_3m': 'number', 'revenue_6m': 'number', 'revenue_12m': 'number',
    'revenue_lifetime': 'number', 'orders_lifetime': 'number',
} -%}
{%- set value_types = {
    'text': dbt.type_string(), 'date': 'date', 'number': ltv_money_type(),
} -%}
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

-- One row for all users, then one per field and value (nulls pass no filter, so
-- they are not counted). Each field's running sum is taken over its own values
-- alone: one sort of the values of one column, not of every field's rows.
counted as (

    select
        'all_users' as filter_field,
        {%- for kind, value_type in value_types.items() %}
        cast(null as {{ value_type }}) as {{ kind }}_value,
        {%- endfor %}
        count(*) as users,
        count(*) as users_at_or_above

    from users
    {%- for field, field_kind in fields.items() %}

    union all

    select
        '{{ field }}' as filter_field,
        {%- for kind, value_type in value_types.items() %}
        cast({{ field if kind == field_kind else 'null' }} as {{ value_type }})
            as {{ kind }}_value,
        {%- endfor %}
        count(*) as users,
        sum(count(*)) over (
            order by {{ field }} desc
            rows between unbounded preceding and current row
        ) as users_at_or_above

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
        cast(users_at_or_above as bigint) as users_at_or_above

    from counted

)

select * from final
