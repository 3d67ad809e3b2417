{#
    Where a mart is built before it is published. Every mart of a `dbt build` is
    built and tested as a pending table; the run's last hook (ltv_publish) switches
    all of them in at once when every node passed, else none. Analysts read the
    published names only.
#}

{#-
    The pending twin of a published mart relation. PostgreSQL: the same name in
    schema `<schema>_pending`, which analysts cannot reach and from which the switch
    moves the table (alter table set schema). DuckDB and Spark cannot move a table
    to another schema: the same schema, `<name>__pending`.
-#}
{% macro ltv_pending_relation(relation) -%}
    {{ return(adapter.dispatch('ltv_pending_relation', 'ltv')(relation)) }}
{%- endmacro %}

{% macro default__ltv_pending_relation(relation) -%}
    {{ return(relation.incorporate(
        path={'identifier': relation.identifier ~ '__pending'}, type='table'
    )) }}
{%- endmacro %}

{% macro postgres__ltv_pending_relation(relation) -%}
    {{ return(relation.incorporate(
        path={'schema': relation.schema ~ '_pending'}, type='table'
    )) }}
{%- endmacro %}

{#- The enabled nodes of this project materialized as marts, by unique id. -#}
{% macro ltv_mart_nodes() -%}
    {%- set marts = {} -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.config.materialized == 'mart' -%}
        {%- do marts.update({node.unique_id: node}) -%}
    {%- endfor -%}
    {{ return(marts) }}
{%- endmacro %}

{#-
    Whether this invocation builds the mart `unique_id` as a pending table: a
    `dbt build`, `run` or `retry` that selected it. Its readers (later marts, tests)
    then read the pending table; every other command reads the published one.
-#}
{% macro ltv_builds_pending(unique_id) -%}
    {{ return(
        execute
        and flags.WHICH in ('build', 'run', 'retry')
        and unique_id in selected_resources
        and unique_id in ltv_mart_nodes()
    ) }}
{%- endmacro %}

{#-
    dbt's ref, except that a mart this invocation builds resolves to its pending
    table: the marts and tests downstream of it read the new build, analysts the
    published one.
-#}
{% macro ref() -%}
    {%- set relation = builtins.ref(*varargs, **kwargs) -%}
    {%- if execute and relation.is_cte is false -%}
        {%- set package = varargs[0] if varargs | length == 2 else project_name -%}
        {%- if ltv_builds_pending('model.' ~ package ~ '.' ~ varargs[-1]) -%}
            {{ return(ltv_pending_relation(relation)) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}
