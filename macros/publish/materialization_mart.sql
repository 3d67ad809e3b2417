{#-
    A mart: a table built as its pending twin (ltv_pending_relation), with the
    contract, indexes, grants and docs of dbt's table materialization. It replaces
    any pending table a failed build left; the published mart is untouched until
    ltv_publish switches every mart of a passing build in at once.
-#}
{% materialization mart, default %}
    {%- set target_relation = ltv_pending_relation(this.incorporate(type='table')) -%}
    {%- set leftover = adapter.get_relation(
        database=target_relation.database,
        schema=target_relation.schema,
        identifier=target_relation.identifier,
    ) -%}
    {%- do adapter.create_schema(target_relation) -%}
    {{ drop_relation_if_exists(leftover) }}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- call statement('main') -%}
        {{ get_create_table_as_sql(False, target_relation, sql) }}
    {%- endcall -%}

    {%- do create_indexes(target_relation) -%}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {%- do apply_grants(target_relation, config.get('grants'), should_revoke=False) -%}
    {%- do persist_docs(target_relation, model) -%}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
