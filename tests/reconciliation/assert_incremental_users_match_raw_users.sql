-- The incremental models follow new order versions and signups by their stamps.
-- Users carry no update stamp, so an incremental run cannot see a signup corrected
-- in place, a user row that lands after the lookback with an older signup, or a
-- user deleted from the raw table. Each leaves the per-user tables out of step
-- with the users and fails here, one row per user with the reason, before the
-- marts are built from them: run `dbt build --full-refresh`.
with

users as (

    select * from {{ ref('stg_shop__users') }}

),

stored_users as (

    select * from {{ ref('int_user_revenue_totals') }}

)

select
    users.signup_date as raw_signup_date,
    stored_users.signup_date as stored_signup_date,
    coalesce(users.user_id, stored_users.user_id) as user_id,
    case
        when stored_users.user_id is null then 'user_missing_from_revenue_totals'
        when users.user_id is null then 'user_deleted_from_raw_users'
        else 'signup_changed_in_place'
    end as reason

from users
full outer join stored_users
    on users.user_id = stored_users.user_id

where
    users.user_id is null
    or stored_users.user_id is null
    or users.signup_date <> stored_users.signup_date
    or (users.signup_date is null) <> (stored_users.signup_date is null)
