-- ltv_segments' users and revenue per segment, recomputed from user_ltv.
with

expected as (

    select
        ltv_segment,
        count(*) as users,
        sum(revenue_lifetime) as revenue_lifetime
    from {{ ref('user_ltv') }}
    group by ltv_segment

),

segments as (

    select * from {{ ref('ltv_segments') }}

)

select
    segments.ltv_segment,
    segments.users,
    expected.users as expected_users,
    segments.revenue_lifetime,
    expected.revenue_lifetime as expected_revenue_lifetime

from segments
left join expected
    on segments.ltv_segment = expected.ltv_segment

where
    segments.users != coalesce(expected.users, 0)
    or segments.revenue_lifetime != coalesce(expected.revenue_lifetime, 0)
    or segments.as_of_date != {{ ltv_as_of_date() }}
