{#
    A raw timestamp as a UTC timestamp without time zone, whatever its type:
    a timestamp with time zone (or text with a Z or an offset) converts to UTC;
    a timestamp without one (or text without one) is taken as UTC already.
    `data_type`, the raw column's type when known (ltv_column_types), lets a
    column that is already a plain timestamp or a date skip the text round trip,
    which costs more than the rest of staging at millions of rows.
#}
{% macro ltv_utc_timestamp(expression, data_type=none) -%}
    {{ return(adapter.dispatch('ltv_utc_timestamp', 'ltv')(expression, data_type)) }}
{%- endmacro %}

{% macro default__ltv_utc_timestamp(expression, data_type=none) -%}
    {%- set as_text = ltv_cast_ready_timestamp_text(
        'cast(' ~ expression ~ ' as ' ~ dbt.type_string() ~ ')'
    ) -%}
    {%- if ltv_is_plain_timestamp_type(data_type) -%}
        {{ expression }}
    {%- elif data_type == 'date' -%}
        cast({{ expression }} as timestamp)
    {%- else -%}
    case
        when {{ ltv_regex_matches(as_text, ltv_zoned_timestamp_pattern()) }}
            then timezone('UTC', cast({{ as_text }} as timestamp with time zone))
        else cast({{ as_text }} as timestamp)
    end
    {%- endif -%}
{%- endmacro %}

{#-
    ISO text as both databases cast it, the instant unchanged: fractional digits
    after the sixth dropped (PostgreSQL rounds 23:59:59.9999999 up into the next
    day: a stamp's date is its day, the fraction truncated); no space before the
    offset, and Z for z (DuckDB: `Unknown TimeZone '+01'` otherwise).
-#}
{% macro ltv_cast_ready_timestamp_text(as_text) -%}
    {%- set truncated = "regexp_replace(" ~ as_text ~ ", '([.][0-9]{6})[0-9]+', '\\1')" -%}
    {%- set offset_joined = "regexp_replace(" ~ truncated
        ~ ", ' ([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)$', '\\1')" -%}
    {{ return("regexp_replace(" ~ offset_joined ~ ", 'z$', 'Z')") }}
{%- endmacro %}

{#-
    Spark parses offsets (after a space too) and truncates past microseconds
    itself; the profile runs the session in UTC. A lower-case z it reads as null,
    silently: it becomes Z.
-#}
{% macro spark__ltv_utc_timestamp(expression, data_type=none) -%}
    cast(regexp_replace(cast({{ expression }} as string), 'z$', 'Z') as timestamp)
{%- endmacro %}
