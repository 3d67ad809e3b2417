{#-
    The incremental per-user models follow new order versions and signups by their
    stamps. What no stamp shows changes every row at once: the raw tables read (var
    ltv_source_schema, from the demo to real data), the revenue statuses, the
    reporting currency and the exchange rates. Each row keeps a fingerprint of them
    (inputs_fingerprint); a run whose fingerprint differs recomputes every user and
    drops the rows built from the old inputs (strategy ltv_replace_users below), as
    --full-refresh would.
-#}

{#- This run's fingerprint, a bigint literal: 60 bits of the md5 of the inputs. -#}
{% macro ltv_inputs_fingerprint() -%}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{ return('cast(0 as bigint)') }}
    {%- endif -%}
    {%- set inputs = [
        source('shop', 'orders') | string,
        source('shop', 'users') | string,
        var('ltv_revenue_statuses') | sort | join(','),
        var('ltv_reporting_currency'),
    ] -%}
    {#- The seed is absent only when a tool compiles without a build (sqlfluff). -#}
    {%- if load_relation(ref('fx_rates')) is not none -%}
        {%- set rates = run_query(
            'select currency, rate_month, usd_per_unit from ' ~ ref('fx_rates')
            ~ ' order by currency, rate_month'
        ) -%}
        {%- for rate in rates.rows -%}
            {%- do inputs.append(rate | join(',')) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set fingerprint = local_md5(inputs | join('|'))[:15] | int(0, 16) -%}
    {{ return('cast(' ~ fingerprint ~ ' as bigint)') }}
{%- endmacro %}

{#-
    True in an incremental run whose table was built from the same inputs (or is
    empty): the model may then recompute only the users that changed. A table from
    before the fingerprint has none: false, and the run stops on the schema change
    (on_schema_change='fail'), asking for --full-refresh. In a unit test,
    is_incremental() alone decides.
-#}
{% macro ltv_inputs_unchanged(inputs_fingerprint) -%}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') -%}
    {%- if 'inputs_fingerprint' not in columns | map('lower') | list -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set stored = run_query(
        'select inputs_fingerprint = ' ~ inputs_fingerprint ~ ' from ' ~ this ~ ' limit 1'
    ) -%}
    {{ return(stored.rows | length == 0 or stored.rows[0][0]) }}
{%- endmacro %}

{#-
    Incremental strategy of the per-user models: delete+insert by unique_key, or,
    when the table's rows were built from other inputs than the new rows (their
    fingerprints differ), delete every row first. Reading one stored row and the new
    rows' fingerprint keeps the usual path as cheap as dbt's delete+insert.
-#}
{% macro get_incremental_ltv_replace_users_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set new_rows = arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set other_inputs = run_query(
        'select count(*) from (select inputs_fingerprint from ' ~ target ~ ' limit 1)'
        ~ ' as stored where inputs_fingerprint <>'
        ~ ' (select max(inputs_fingerprint) from ' ~ new_rows ~ ')'
    ).rows[0][0] > 0 -%}
    {%- if other_inputs %}
    -- Built from other inputs: every row goes.
    delete from {{ target }};
    {%- else %}
    delete from {{ target }}
    where {{ key }} in (select {{ key }} from {{ new_rows }});
    {%- endif %}

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ new_rows }}
{%- endmacro %}
