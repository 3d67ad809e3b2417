{#
    Raw timestamps and amounts may arrive typed or as text, with or without a
    time zone. These patterns say which text forms the project reads: the source
    tests `is_iso_timestamp` and `is_decimal_amount` stop the build before a value
    that does not parse (or parses into something wrong, like PostgreSQL's
    'yesterday', 'infinity' or 'NaN') reaches a model, and ltv_utc_timestamp
    reads the zoned ones as UTC.
#}

{#- ISO 8601: a date, optionally a time, and with a time an optional Z or offset. -#}
{% macro ltv_iso_timestamp_pattern() -%}
    {{ return(
        '^[0-9]{4}-[0-9]{2}-[0-9]{2}'
        ~ '([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?'
        ~ ' ?([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)?)?$'
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
