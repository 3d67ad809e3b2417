-- The best users of a segment by 12-month revenue, one page: the user list
-- (user_list_page) with these defaults; vars ltv_list_* change any of them, e.g.
-- {ltv_list_segment: High, ltv_list_page: 2}.
{{ ltv_user_list_page(ltv_user_list_settings({
    'segment': 'VIP', 'sort': 'revenue_12m', 'direction': 'desc',
})) }}
