{#
    The switch: analysts read the marts of one build, the new one only when all of
    it passed. Every mart of a `dbt build` is built and tested as a pending table
    (materialization `mart`); this on-run-end hook then either moves every pending
    mart over its published name in one transaction, or publishes nothing and says
    why. A killed build never reaches it: the published marts stay as they were.
#}

{#- The ids of the nodes a publish needs: every enabled model, seed and test. -#}
{% macro ltv_publish_needs() -%}
    {%- set needed = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type in ('model', 'seed', 'test', 'unit_test')
        and node.config.enabled -%}
        {%- do needed.append(node.unique_id) -%}
    {%- endfor -%}
    {%- for node in (graph.unit_tests or {}).values() if node.config.enabled -%}
        {%- do needed.append(node.unique_id) -%}
    {%- endfor -%}
    {{ return(needed) }}
{%- endmacro %}

{#- Why this invocation may not publish, as sentences; empty when it may. -#}
{% macro ltv_publish_blockers(results) -%}
    {%- set blockers = [] -%}
    {%- if flags.WHICH != 'build' -%}
        {%- do blockers.append(
            '`dbt ' ~ flags.WHICH ~ '` does not test the marts; `dbt build` publishes'
        ) -%}
    {%- endif -%}
    {%- if invocation_args_dict.get('empty') or invocation_args_dict.get('sample') -%}
        {%- do blockers.append('--empty and --sample build partial marts') -%}
    {%- endif -%}
    {%- set ran = results | map(attribute='node') | map(attribute='unique_id') | list -%}
    {%- set left_out = ltv_publish_needs() | reject('in', ran) | list -%}
    {%- if left_out -%}
        {%- do blockers.append(
            'the build left out ' ~ left_out | length ~ ' of the project\'s nodes (e.g. '
            ~ left_out[:3] | join(', ') ~ '); a publish needs a whole `dbt build`'
        ) -%}
    {%- endif -%}
    {%- set failed = [] -%}
    {%- for result in results if result.status not in ('success', 'pass', 'warn', 'no-op') -%}
        {%- do failed.append(result.node.name ~ ' (' ~ result.status ~ ')') -%}
    {%- endfor -%}
    {%- if failed -%}
        {%- do blockers.append(
            failed | length ~ ' node(s) did not pass: ' ~ failed[:5] | join(', ')
            ~ (', ...' if failed | length > 5 else '')
        ) -%}
    {%- endif -%}
    {{ return(blockers) }}
{%- endmacro %}

{#- on-run-end of every `dbt build` and `dbt run`. -#}
{% macro ltv_publish(results) -%}
    {%- if execute and flags.WHICH in ('build', 'run') -%}
        {%- set blockers = ltv_publish_blockers(results) -%}
        {%- set pairs = [] -%}
        {%- for node in ltv_mart_nodes().values() -%}
            {%- set published = api.Relation.create(
                database=node.database, schema=node.schema, identifier=node.alias,
                type='table',
            ) -%}
            {%- do pairs.append({
                'published': published,
                'pending': ltv_pending_relation(published),
                'exists': adapter.get_relation(
                    database=node.database, schema=node.schema, identifier=node.alias
                ) is not none,
            }) -%}
        {%- endfor -%}
        {%- if blockers -%}
            {{ log('Nothing published: ' ~ blockers | join('; ') ~ '. Analysts keep'
                ~ ' the marts of the last published build.', info=True) }}
        {%- else -%}
            {%- do adapter.dispatch('ltv_switch_marts', 'ltv')(pairs) -%}
            {{ log('Published the ' ~ pairs | length ~ ' marts of this build (as of '
                ~ ltv_as_of_date().split("'")[1] ~ ').', info=True) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- DuckDB: one transaction of drops and renames in the marts' schema. -#}
{% macro default__ltv_switch_marts(pairs) -%}
    {%- call statement('ltv_switch_marts', auto_begin=False) -%}
        begin transaction;
        {%- for pair in pairs %}
        drop table if exists {{ pair.published }};
        alter table {{ pair.pending }} rename to {{ adapter.quote(pair.published.identifier) }};
        {%- endfor %}
        commit;
    {%- endcall -%}
{%- endmacro %}

{#-
    PostgreSQL: one transaction. It first takes every published mart in ACCESS
    EXCLUSIVE mode, waiting for readers: an attempt that cannot have them all
    within half a second lets go of those it had (so that a reader between two
    marts is never deadlocked) and tries again, until var ltv_publish_wait_seconds.
    Then it drops them and moves the pending ones into their schema, with their
    grants, indexes and statistics.
-#}
{% macro postgres__ltv_switch_marts(pairs) -%}
    {%- set live = pairs | selectattr('exists') | map(attribute='published') | list -%}
    {%- call statement('ltv_switch_marts', auto_begin=True) -%}
        do $ltv$
        declare
            deadline timestamptz := clock_timestamp()
                + interval '{{ var("ltv_publish_wait_seconds", 300) | int }} seconds';
        begin
            {%- if live %}
            perform set_config('lock_timeout', '500ms', true);
            loop
                begin
                    lock table {{ live | join(', ') }} in access exclusive mode;
                    exit;
                exception when lock_not_available or deadlock_detected then
                    if clock_timestamp() > deadline then
                        raise exception 'readers held the published marts for {{
                            var("ltv_publish_wait_seconds", 300) }} s (var '
                            'ltv_publish_wait_seconds): nothing published';
                    end if;
                    perform pg_sleep(0.05 + random() * 0.2);
                end;
            end loop;
            {%- endif %}
            {%- for pair in pairs %}
            drop table if exists {{ pair.published }};
            alter table {{ pair.pending }} set schema {{ adapter.quote(pair.published.schema) }};
            {%- endfor %}
        end
        $ltv$
    {%- endcall -%}
    {%- do adapter.commit() -%}
{%- endmacro %}

{#-
    Spark has no transaction over several tables: each mart in turn replaces its
    published name (drop, then rename).
-#}
{% macro spark__ltv_switch_marts(pairs) -%}
    {%- for pair in pairs -%}
        {%- do run_query('drop table if exists ' ~ pair.published) -%}
        {%- do run_query('alter table ' ~ pair.pending ~ ' rename to ' ~ pair.published) -%}
    {%- endfor -%}
{%- endmacro %}
