{#
    Raw timestamps and amounts may arrive typed or as text, with or without a
    time zone. These patterns say which text forms the project reads: the source
    tests `is_iso_timestamp` and `is_decimal_amount` stop the build before a value
    that does not parse (or parses into something wrong, like PostgreSQL's
    'yesterday', 'infinity' or 'NaN') reaches a model, and ltv_utc_timestamp
    reads the zoned ones as UTC.
#}

{#-
    ISO 8601: a date, optionally a time (up to nine fractional digits), and with
    a time an optional Z or offset, with or without a space before it. Each field
    within its range (month 01-12, hour 00-23, offset up to 15:59, as PostgreSQL
    takes it); the day within its month is ltv_is_calendar_day's to check.
-#}
{% macro ltv_iso_timestamp_pattern() -%}
    {{ return(
        '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])'
        ~ '([ T]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,9})?)?'
        ~ ' ?([zZ]|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)?)?$'
    ) }}
{%- endmacro %}

{#- A timestamp text that ends in a Z or an offset from UTC. -#}
{% macro ltv_zoned_timestamp_pattern() -%}
    {{ return(
        '^.*[0-9]:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?'
        ~ ' ?([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)$'
    ) }}
{%- endmacro %}

{#- Plain decimal notation, optionally signed, with an optional exponent. -#}
{% macro ltv_decimal_pattern() -%}
    {{ return('^ *[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)? *$') }}
{%- endmacro %}
