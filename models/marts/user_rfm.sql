{#-
    The RFM summary of lifetimes (freq=D) per user with a revenue day: the rule
    lives in int_users_rfm, upstream of the marts, so that the CLV series reads
    it there; this mart publishes it.
-#}

with

int_users_rfm as (

    select * from {{ ref('int_users_rfm') }}

),

final as (

    select
        user_id,
        as_of_date,
        frequency,
        recency,
        t,
        monetary_value
    from int_users_rfm

)

select * from final
