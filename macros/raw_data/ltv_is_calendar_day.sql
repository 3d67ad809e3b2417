{#
    Whether a text that matches ltv_iso_timestamp_pattern starts with a real
    calendar day: the pattern lets 2025-02-30 and 0000-01-01 through, and the
    database's cast would fail on them in the middle of the build. The raw check
    (test is_iso_timestamp) refuses them up front instead.
#}
{% macro ltv_is_calendar_day(as_text) -%}
    {%- set year = 'cast(substr(' ~ as_text ~ ', 1, 4) as integer)' -%}
    {%- set month = 'cast(substr(' ~ as_text ~ ', 6, 2) as integer)' -%}
    {%- set day = 'cast(substr(' ~ as_text ~ ', 9, 2) as integer)' -%}
    (
        {{ year }} >= 1
        and {{ day }} <= case
            when {{ month }} in (4, 6, 9, 11) then 30
            when {{ month }} != 2 then 31
            when
                {{ year }} % 4 = 0
                and ({{ year }} % 100 != 0 or {{ year }} % 400 = 0)
                then 29
            else 28
        end
    )
{%- endmacro %}
