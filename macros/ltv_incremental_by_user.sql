{#-
    The config of the incremental per-user models: a run replaces the rows of the
    users it recomputes (delete+insert by user_id) and stops on a schema change.
    Spark's parquet tables cannot delete rows: there the model is a plain table.
-#}
{% macro ltv_incremental_by_user() -%}
    {{ config(
        materialized='table' if target.type == 'spark' else 'incremental',
        incremental_strategy='delete+insert',
        unique_key='user_id',
        on_schema_change='fail',
    ) }}
{%- endmacro %}
