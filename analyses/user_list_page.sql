-- One page of the user list: filters, sort field, direction, page size and page from
-- vars ltv_list_* (macros/ltv_user_list.sql documents each). Its total is
-- user_list_total, with the same vars.
{{ ltv_user_list_page(ltv_user_list_settings()) }}
