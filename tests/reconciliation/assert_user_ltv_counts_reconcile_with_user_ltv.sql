-- Each field of user_ltv_counts adds up to user_ltv's users with a value of that
-- field, its users_at_or_above run down from that sum by each value's users, and
-- 'all_users' is every user. A row is a field whose counts do not reconcile.
with

users as (

    select * from {{ ref('user_ltv') }}

),

counts as (

    select * from {{ ref('user_ltv_counts') }}

),

expected as (

    select
        'all_users' as filter_field,
        count(*) as users
    from users
    {%- for field in [
        'ltv_segment', 'acquisition_channel', 'signup_date', 'revenue_3m',
        'revenue_6m', 'revenue_12m', 'revenue_lifetime', 'orders_lifetime',
    ] %}
    union all
    select
        '{{ field }}' as filter_field,
        count({{ field }}) as users
    from users
    {%- endfor %}

),

counted as (

    select
        filter_field,
        sum(users) as users,
        max(users_at_or_above) as users_at_or_above,
        sum(case when users_at_or_above < users then 1 else 0 end)
            as rows_below_own_users

    from counts
    group by filter_field

)

select
    expected.filter_field,
    expected.users,
    counted.users as counted_users,
    counted.users_at_or_above

from expected
left join counted
    on expected.filter_field = counted.filter_field

where
    coalesce(counted.users, 0) != expected.users
    or coalesce(counted.users_at_or_above, 0) != expected.users
    or counted.rows_below_own_users > 0
