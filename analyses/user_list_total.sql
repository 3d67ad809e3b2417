-- The total of the user list: users passing the filters of vars ltv_list_*, and
-- pages of ltv_list_page_size (the same vars as user_list_page).
{{ ltv_user_list_total(ltv_user_list_settings()) }}
