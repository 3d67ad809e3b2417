{#-
    The config of the incremental per-user models: a run replaces the rows of the
    users it recomputes (delete+insert by user_id), and every row built from other
    inputs (macros/ltv_inputs_fingerprint.sql), and stops on a schema change.
    Spark's parquet tables cannot delete rows: there the model is a plain table.
-#}
{% macro ltv_incremental_by_user() -%}
    {{ config(
        materialized='table' if target.type == 'spark' else 'incremental',
        incremental_strategy='ltv_replace_users',
        unique_key='user_id',
        on_schema_change='fail',
    ) }}
{%- endmacro %}

{#-
    int_user_revenue_days in an incremental run: the newest change it has
    processed, less var ltv_incremental_lookback_days (rows that land late with
    older timestamps are taken again). A change stamped after this run started (a
    clock error, a typo such as 2099) counts as now: trusted, it would hide every
    later row from every later run; as it is, such rows are only taken again. A
    run reads the watermark first and inlines it as a literal, so the planner
    knows the value: PostgreSQL then plans for the few thousand changed order
    versions instead of a third of the table. A unit test cannot run queries on
    its fixtures: there it stays a subquery.
-#}
{% macro ltv_incremental_watermark() -%}
    {%- set newest_trusted_change -%}
        case
            when max(last_changed_at) > {{ ltv_run_started_at() }}
                then {{ ltv_run_started_at() }}
            else max(last_changed_at)
        end
    {%- endset -%}
    {%- set newest_change_less_lookback -%}
        coalesce(
            {{ dbt.dateadd(
                'day', -var('ltv_incremental_lookback_days'), newest_trusted_change
            ) }},
            cast('1900-01-01 00:00:00' as timestamp)
        )
    {%- endset -%}
    {%- set query -%}
        select {{ newest_change_less_lookback }} from {{ this }}
    {%- endset -%}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{ return('(' ~ query ~ ')') }}
    {%- endif -%}
    {{ return(
        "cast('" ~ run_query(query).columns[0].values()[0] ~ "' as timestamp)"
    ) }}
{%- endmacro %}
