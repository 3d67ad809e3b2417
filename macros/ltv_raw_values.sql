{#
    Raw timestamps and amounts may arrive typed or as text, with or without a
    time zone. These macros read them through their text form, so that the same
    SQL handles every raw type; the source tests `is_iso_timestamp` and
    `is_decimal_amount` stop the build before a value that does not parse (or
    parses into something wrong, like PostgreSQL's 'yesterday', 'infinity' or
    'NaN') reaches a model.
#}

{#- Whether the text `expression` matches `pattern` (anchor it with ^ and $). -#}
{% macro ltv_regex_matches(expression, pattern) -%}
    {{ return(adapter.dispatch('ltv_regex_matches', 'ltv')(expression, pattern)) }}
{%- endmacro %}

{% macro default__ltv_regex_matches(expression, pattern) -%}
    ({{ expression }} ~ '{{ pattern }}')
{%- endmacro %}

{% macro spark__ltv_regex_matches(expression, pattern) -%}
    ({{ expression }} rlike '{{ pattern }}')
{%- endmacro %}

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
    {%- set as_text = 'cast(' ~ expression ~ ' as ' ~ dbt.type_string() ~ ')' -%}
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
    The data types of `relation`'s columns in lower case, by lower-case column
    name; empty while dbt parses, and for a relation that does not exist yet.
-#}
{% macro ltv_column_types(relation) -%}
    {%- set types = {} -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- set data_type = column.data_type | lower | trim -%}
            {%- do types.update({column.name | lower: data_type}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(types) }}
{%- endmacro %}

{#- Whether a type of ltv_column_types is a timestamp without time zone. -#}
{% macro ltv_is_plain_timestamp_type(data_type) -%}
    {{ return(data_type in ('timestamp', 'timestamp without time zone')) }}
{%- endmacro %}

{#- Spark parses offsets itself; the profile runs the session in UTC. -#}
{% macro spark__ltv_utc_timestamp(expression, data_type=none) -%}
    cast(cast({{ expression }} as string) as timestamp)
{%- endmacro %}

{#- The engine's 8-byte float type. -#}
{% macro ltv_double_type() -%}
    {{ return(adapter.dispatch('ltv_double_type', 'ltv')()) }}
{%- endmacro %}

{% macro default__ltv_double_type() -%}
    double precision
{%- endmacro %}

{% macro spark__ltv_double_type() -%}
    double
{%- endmacro %}

{#-
    Tests on the raw tables run before any model: in a demo build they must wait
    for the demo seeds that fill those tables (see ltv_depends_on_demo_seed).
-#}
{% macro ltv_depends_on_demo_raw_tables() -%}
    {{ ltv_depends_on_demo_seed('demo_users') }}
    {{ ltv_depends_on_demo_seed('demo_orders') }}
{%- endmacro %}
