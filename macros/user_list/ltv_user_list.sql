{#
    The user list of the system this project replaces (analyses/user_list_page.sql
    and user_list_total.sql): filters, one sort field either way, pages.

    Filters (all optional; given together, a user must pass every one):
      segment             ltv_segment equals it ('VIP', 'High', 'Medium', 'Low', 'New')
      channel             acquisition_channel equals it (lower case, as in user_ltv)
      signup_from, signup_to
                          signup_date >= signup_from and < signup_to (YYYY-MM-DD)
      revenue_horizon     '3m', '6m', '12m' or 'lifetime' (default): the revenue
                          column that revenue_min (>=) and revenue_max (<) bound
      min_orders          orders_lifetime >= it
    Sort: one of ltv_user_list_sort_fields(), 'asc' or 'desc'; ties are broken by
    user_id in the same direction, so that each sort is one index walked forwards
    or backwards on PostgreSQL. Nulls (AOV and days since the last order of users
    without revenue orders) sort as the largest value: last ascending, first
    descending, as PostgreSQL orders them by default (spelled out for the others).
    Pages: page_size 25, 50 or 100; page 1 is the first.
    sort_range_max_users (100000): a range filter keeping at most this many users
    is read over its range and sorted, not walked in the sort's order (see
    ltv_user_list_page).
#}

{%- macro ltv_user_list_sort_fields() -%}
    {{ return([
        'signup_date', 'revenue_3m', 'revenue_6m', 'revenue_12m', 'revenue_lifetime',
        'orders_lifetime', 'aov_lifetime', 'days_since_last_order',
    ]) }}
{%- endmacro %}

{#-
    The columns every sort field's index of user_ltv holds after the sort field
    and user_id, for the list's filters (models/marts/user_ltv.sql). Revenue and
    orders first: they go with every sort field, so a filter on them is the one
    that makes a walk in the sort's order read far, and each further column of an
    index entry costs more to reach.
-#}
{%- macro ltv_user_list_filter_columns() -%}
    {{ return([
        'revenue_12m', 'revenue_6m', 'revenue_lifetime', 'revenue_3m', 'orders_lifetime',
        'signup_date', 'acquisition_channel', 'ltv_segment',
    ]) }}
{%- endmacro %}

{#-
    The list's settings from vars ltv_list_<setting>, checked: they become SQL text.
    `defaults` replaces the defaults below (an analysis's own question); the vars
    still win.
-#}
{%- macro ltv_user_list_settings(defaults={}) -%}
    {%- set settings = {
        'segment': none,
        'channel': none,
        'signup_from': none,
        'signup_to': none,
        'revenue_horizon': 'lifetime',
        'revenue_min': none,
        'revenue_max': none,
        'min_orders': none,
        'sort': 'revenue_lifetime',
        'direction': 'desc',
        'page_size': 50,
        'page': 1,
        'sort_range_max_users': 100000,
    } -%}
    {%- do settings.update(defaults) -%}
    {%- for key in settings.keys() | list -%}
        {%- do settings.update({key: var('ltv_list_' ~ key, settings[key])}) -%}
    {%- endfor -%}
    {{ return(ltv_user_list_checked(settings)) }}
{%- endmacro %}

{#- A date var of an analysis (YYYY-MM-DD), checked, as a SQL date literal. -#}
{%- macro ltv_analysis_date(name, default) -%}
    {%- set value = var(name, default) | string -%}
    {%- if not ltv_is_calendar_date(value) -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a calendar date YYYY-MM-DD, got: " ~ value
        ) }}
    {%- endif -%}
    cast('{{ value }}' as date)
{%- endmacro %}

{#- A whole-number var of an analysis, checked. -#}
{%- macro ltv_analysis_integer(name, default) -%}
    {%- set value = var(name, default) | string -%}
    {%- if not modules.re.match('^[0-9]+$', value) -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a whole number, got: " ~ value
        ) }}
    {%- endif -%}
    {{ value }}
{%- endmacro %}

{%- macro ltv_user_list_checked(settings) -%}
    {%- set re = modules.re -%}
    {%- set fail = exceptions.raise_compiler_error -%}
    {%- if settings.segment is not none
        and settings.segment not in ['VIP', 'High', 'Medium', 'Low', 'New'] -%}
        {{ fail("ltv_list_segment must be VIP, High, Medium, Low or New, got: "
            ~ settings.segment) }}
    {%- endif -%}
    {%- if settings.channel is not none
        and not re.match('^[a-z0-9_ .-]+$', settings.channel | string) -%}
        {{ fail("ltv_list_channel must be a lower-case channel name, got: "
            ~ settings.channel) }}
    {%- endif -%}
    {%- for key in ['signup_from', 'signup_to'] -%}
        {%- if settings[key] is not none
            and not re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', settings[key] | string) -%}
            {{ fail("ltv_list_" ~ key ~ " must be a date YYYY-MM-DD, got: "
                ~ settings[key]) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if settings.revenue_horizon not in ['3m', '6m', '12m', 'lifetime'] -%}
        {{ fail("ltv_list_revenue_horizon must be 3m, 6m, 12m or lifetime, got: "
            ~ settings.revenue_horizon) }}
    {%- endif -%}
    {%- for key in ['revenue_min', 'revenue_max', 'min_orders'] -%}
        {%- if settings[key] is not none
            and not re.match('^-?[0-9]+(\\.[0-9]+)?$', settings[key] | string) -%}
            {{ fail("ltv_list_" ~ key ~ " must be a number, got: " ~ settings[key]) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if settings.sort not in ltv_user_list_sort_fields() -%}
        {{ fail("ltv_list_sort must be one of " ~ ltv_user_list_sort_fields()
            ~ ", got: " ~ settings.sort) }}
    {%- endif -%}
    {%- if settings.direction not in ['asc', 'desc'] -%}
        {{ fail("ltv_list_direction must be asc or desc, got: " ~ settings.direction) }}
    {%- endif -%}
    {%- if settings.page_size | string not in ['25', '50', '100'] -%}
        {{ fail("ltv_list_page_size must be 25, 50 or 100, got: "
            ~ settings.page_size) }}
    {%- endif -%}
    {%- if not re.match('^[1-9][0-9]*$', settings.page | string) -%}
        {{ fail("ltv_list_page must be a whole number from 1, got: " ~ settings.page) }}
    {%- endif -%}
    {%- if not re.match('^[0-9]+$', settings.sort_range_max_users | string) -%}
        {{ fail("ltv_list_sort_range_max_users must be a whole number, got: "
            ~ settings.sort_range_max_users) }}
    {%- endif -%}
    {{ return(settings) }}
{%- endmacro %}

{#-
    The list's filters, in the order of their conditions: (field, kind, low, high)
    for a user_ltv field, with kind 'text' (equal to low), 'date' or 'number'
    (at least low, below high; either may be none), the values as SQL literals.
    The signup range's two ends are one filter.
-#}
{%- macro ltv_user_list_filters(settings) -%}
    {%- set filters = [] -%}
    {%- for field, value in [('ltv_segment', settings.segment),
        ('acquisition_channel', settings.channel)] if value is not none -%}
        {%- do filters.append((field, 'text', ltv_string_literal(value), none)) -%}
    {%- endfor -%}
    {%- if settings.signup_from is not none or settings.signup_to is not none -%}
        {%- set ends = [] -%}
        {%- for value in [settings.signup_from, settings.signup_to] -%}
            {%- do ends.append(none if value is none else "cast('" ~ value ~ "' as date)") -%}
        {%- endfor -%}
        {%- do filters.append(('signup_date', 'date', ends[0], ends[1])) -%}
    {%- endif -%}
    {%- set revenue_min = ltv_user_list_lower_bound(settings.revenue_min) -%}
    {%- if revenue_min is not none or settings.revenue_max is not none -%}
        {%- do filters.append(('revenue_' ~ settings.revenue_horizon, 'number',
            revenue_min, settings.revenue_max)) -%}
    {%- endif -%}
    {%- set min_orders = ltv_user_list_lower_bound(settings.min_orders) -%}
    {%- if min_orders is not none -%}
        {%- do filters.append(('orders_lifetime', 'number', min_orders, none)) -%}
    {%- endif -%}
    {{ return(filters) }}
{%- endmacro %}

{#-
    A lower bound on revenue or orders, or none where it keeps every user: both
    are never negative (int_users_aggregated's tests check it before user_ltv
    is built). A condition that keeps every user still costs a comparison on
    each index entry a page's walk reads.
-#}
{%- macro ltv_user_list_lower_bound(value) -%}
    {{ return(none if value is none or value | float <= 0 else value) }}
{%- endmacro %}

{#- The where clause's conditions, one a line ('1 = 1' without a filter). -#}
{%- macro ltv_user_list_where(settings, for_page=false) -%}
    {%- set conditions = [] -%}
    {%- for field, kind, low, high in ltv_user_list_filters(settings) -%}
        {%- if kind == 'text' -%}
            {%- do conditions.append(field ~ " = " ~ low) -%}
        {%- else -%}
            {%- if low is not none -%}
                {%- do conditions.append(field ~ " >= " ~ low) -%}
            {%- endif -%}
            {%- if high is not none -%}
                {%- do conditions.append(field ~ " < " ~ high) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {#-
        A page sorted by another revenue than the filtered one also gets the bound
        the filter implies on it (revenue_3m <= revenue_6m <= revenue_12m <=
        revenue_lifetime, user by user): the same users, but PostgreSQL then
        starts walking the sort field's index where they lie, not at an end
        where none does (the planner takes the columns as independent).
    -#}
    {%- set revenue_min = ltv_user_list_lower_bound(settings.revenue_min) -%}
    {%- set horizons = ['3m', '6m', '12m', 'lifetime'] -%}
    {%- set sort_horizon = settings.sort | replace('revenue_', '') -%}
    {%- if for_page and sort_horizon in horizons
        and sort_horizon != settings.revenue_horizon -%}
        {%- set shorter = horizons.index(sort_horizon)
            < horizons.index(settings.revenue_horizon) -%}
        {%- if shorter and settings.revenue_max is not none -%}
            {%- do conditions.append(
                settings.sort ~ " < " ~ settings.revenue_max
            ) -%}
        {%- elif not shorter and revenue_min is not none -%}
            {%- do conditions.append(settings.sort ~ " >= " ~ revenue_min) -%}
        {%- endif -%}
    {%- endif -%}
    {#-
        Revenue above 0 on any horizon, or at least one order, means a revenue
        order: orders_lifetime >= 1, AOV and days since the last order not null.
        A page sorted by one of them then skips the users without an order (at
        the start ascending by orders, descending by the others) at once.
    -#}
    {%- set has_order = revenue_min is not none
        or ltv_user_list_lower_bound(settings.min_orders) is not none -%}
    {%- if for_page and has_order
        and settings.sort in ['aov_lifetime', 'days_since_last_order'] -%}
        {%- do conditions.append(settings.sort ~ " is not null") -%}
    {%- elif for_page and has_order and settings.sort == 'orders_lifetime' -%}
        {%- do conditions.append("orders_lifetime >= 1") -%}
    {%- endif -%}
    {{ (conditions or ['1 = 1']) | join('\nand ') }}
{%- endmacro %}

{%- macro ltv_user_list_order_by(settings) -%}
    {%- set nulls = 'nulls first' if settings.direction == 'desc' else 'nulls last' -%}
    {{- settings.sort }} {{ settings.direction }} {{ nulls }},
{{ 'user_id ' ~ settings.direction }}
{%- endmacro %}

{#-
    One page of the list (limit/offset: every engine of the project has both). The
    page's user ids first, then their rows: on PostgreSQL finding the ids reads one
    index alone (each sort field's index holds every filter column), and only the
    page's own rows are read from the table, not those of the pages before it.

    PostgreSQL finds the ids by walking the sort field's index and keeping the
    users who pass, as long as it expects them often enough. Where a range
    filter keeps users who sit far along that walk (revenue_6m >= 1000 sorted by
    revenue_3m ascending: most users low on 3m are low on 6m), reading the range
    and sorting it is faster, if the range is small; the planner cannot tell, as
    it takes columns as independent. So with one range filter on another column
    that the sort field's index holds, the page takes the ids from one of two
    ways, chosen as it runs by the range's count in user_ltv_counts (the
    total's): sorted_range up to sort_range_max_users users, walked above.
-#}
{%- macro ltv_user_list_page(settings) -%}
    {%- set page_size = settings.page_size | int -%}
    {%- set limit_offset = 'limit ' ~ page_size ~ ' offset '
        ~ (settings.page | int - 1) * page_size -%}
    {%- set filters = ltv_user_list_filters(settings) -%}
    {%- set sorts_range = filters | length == 1 and filters[0][1] != 'text'
        and filters[0][0] != settings.sort
        and settings.sort in ltv_user_list_filter_columns() -%}
    {%- set range_users = ltv_user_list_count(settings) -%}
    {%- set max_users = settings.sort_range_max_users | int -%}
with

walked as (

    select user_id
    from {{ ref('user_ltv') }}
    where
        {{ ltv_user_list_where(settings, for_page=true) | indent(8) }}
        {%- if sorts_range %}
        and {{ range_users | indent(8) }} > {{ max_users }}
        {%- endif %}
    order by
        {{ ltv_user_list_order_by(settings) | indent(8) }}
    {{ limit_offset }}

),
{%- if sorts_range %}

sorted_range as (

    select user_id
    from (
        -- the range is read first (offset 0 keeps it apart), in the sort's
        -- direction: a sort field that follows the filtered one then comes
        -- nearly in order, and the top-N sort keeps few of the rows it reads
        select user_id, {{ settings.sort }}
        from {{ ref('user_ltv') }}
        where
            {{ ltv_user_list_where(settings) | indent(12) }}
            and {{ range_users | indent(12) }} <= {{ max_users }}
        order by {{ filters[0][0] }} {{ settings.direction }}, user_id {{ settings.direction }}
        offset 0
    ) as in_range
    order by
        {{ ltv_user_list_order_by(settings) | indent(8) }}
    {{ limit_offset }}

),
{%- endif %}

page_users as (

    select user_id from walked
    {%- if sorts_range %}
    union all
    select user_id from sorted_range
    {%- endif %}

),

final as (

    select
        user_ltv.user_id,
        user_ltv.signup_date,
        user_ltv.acquisition_channel,
        user_ltv.ltv_segment,
        user_ltv.revenue_3m,
        user_ltv.revenue_6m,
        user_ltv.revenue_12m,
        user_ltv.revenue_lifetime,
        user_ltv.orders_lifetime,
        user_ltv.aov_lifetime,
        user_ltv.last_order_date,
        user_ltv.days_since_last_order
    from page_users
    inner join {{ ref('user_ltv') }} as user_ltv
        on page_users.user_id = user_ltv.user_id

)

select * from final
order by
    {{ ltv_user_list_order_by(settings) | indent(4) }}
{% endmacro %}

{#-
    The list's total: users and pages. With at most one filter (the signup range's
    two ends are one) it reads user_ltv_counts, counted in the build: one row, or
    two for a range, whatever the filter's size. With several it counts user_ltv.
-#}
{%- macro ltv_user_list_total(settings) -%}
    {%- set page_size = settings.page_size | int -%}
with

total as (

    select {{ ltv_user_list_count(settings) | indent(4) }} as total_users

)

select
    total_users,
    {{ page_size }} as page_size,
    cast(ceiling(total_users / {{ page_size }}.0) as bigint) as total_pages
from total
{%- endmacro %}

{#- The users passing the list's filters, as one scalar expression. -#}
{%- macro ltv_user_list_count(settings) -%}
    {%- set filters = ltv_user_list_filters(settings) -%}
    {%- set counts = ref('user_ltv_counts') -%}
    {%- if filters | length > 1 -%}
(
    select count(*)
    from {{ ref('user_ltv') }}
    where
        {{ ltv_user_list_where(settings) | indent(8) }}
)
    {%- elif not filters -%}
(select users from {{ counts }} where filter_field = 'all_users')
    {%- else -%}
        {%- set field, kind, low, high = filters[0] -%}
        {%- if kind == 'text' -%}
coalesce((
    select users from {{ counts }}
    where filter_field = '{{ field }}' and text_value = {{ low }}
), 0)
        {%- else -%}
greatest(
    {{ ltv_user_list_count_at_or_above(counts, field, kind, low) | indent(4) }}
    - {{ ltv_user_list_count_at_or_above(counts, field, kind, high, upper=true) | indent(4) }},
    0
)
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#-
    Users of user_ltv_counts' field whose value is `bound` or greater: the count
    of the first value at or above it (0 past the last). Without a bound (none),
    every user with a value at the lower end, and none at the upper end.
-#}
{%- macro ltv_user_list_count_at_or_above(counts, field, kind, bound, upper=false) -%}
    {%- if bound is none and upper -%}
0
    {%- else -%}
coalesce((
    select users_at_or_above from {{ counts }}
    where
        filter_field = '{{ field }}'
        {%- if bound is not none %}
        and {{ kind }}_value >= {{ bound }}
        {%- endif %}
    order by {{ kind }}_value
    limit 1
), 0)
    {%- endif -%}
{%- endmacro %}
