-- Users who signed up in a date range, best lifetime revenue first, one page at a
-- time: the user list (user_list_page) with these defaults, page 20 of 50 of the
-- signups of 2021 to 2024; vars ltv_list_* change any of them, e.g.
-- {ltv_list_signup_from: "2024-01-01", ltv_list_signup_to: "2024-04-01"}.
{{ ltv_user_list_page(ltv_user_list_settings({
    'signup_from': '2021-01-01', 'signup_to': '2025-01-01',
    'sort': 'revenue_lifetime', 'direction': 'desc', 'page_size': 50, 'page': 20,
})) }}
