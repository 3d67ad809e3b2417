{#
    The switch: analysts read the marts of one build, the new one only when all of
    it passed. Every mart of a `dbt build` is built and tested as a pending table
    (materialization `mart`); this on-run-end hook then either moves every pending
    mart over its published name in one transaction, or publishes nothing and says
    why. A killed build never reaches it: the published marts stay as they were.
#}

{#-
    The ids of the nodes a publish needs: every enabled model, seed and data test.
    Unit tests test the SQL on fixed rows, not the data: a production build may
    leave them out (`--exclude-resource-type unit_test`, as dbt advises), but one
    that ran and failed blocks the publish like any other node.
-#}
{% macro ltv_publish_needs() -%}
    {%- set needed = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type in ('model', 'seed', 'test') and node.config.enabled -%}
        {%- do needed.append(node.unique_id) -%}
    {%- endfor -%}
    {{ return(needed) }}
{%- endmacro %}

{#- Why this invocation may not publish, as sentences; empty when it may. -#}
{% macro ltv_publish_blockers(results) -%}
    {%- set blockers = [] -%}
    {%- if flags.WHICH != 'build' -%}
        {%- do blockers.append(
            '`dbt ' ~ flags.WHICH ~ '` is not a whole tested build; `dbt build` publishes'
        ) -%}
    {%- endif -%}
    {%- if invocation_args_dict.get('empty') or invocation_args_dict.get('sample') -%}
        {%- do blockers.append('--empty and --sample build partial marts') -%}
    {%- endif -%}
    {%- set ran = results | map(attribute='node') | map(attribute='unique_id') | list -%}
    {%- set needed = ltv_publish_needs() -%}
    {%- set left_out = needed | reject('in', ran) | list -%}
    {%- if left_out and flags.WHICH == 'build' -%}
        {%- do blockers.append(
            'this build selected ' ~ (needed | length - left_out | length) ~ ' of the '
            ~ needed | length ~ ' models, seeds and data tests (left out: '
            ~ left_out[:3] | join(', ') ~ (', ...' if left_out | length > 3 else '')
            ~ '); only a whole `dbt build` publishes'
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

{#- on-run-end of `dbt build`, `run` and `retry`: switch, or say why not. -#}
{% macro ltv_publish(results) -%}
    {%- if execute and flags.WHICH in ('build', 'run', 'retry') -%}
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
        {#- A build of models outside the marts' schema never created it. -#}
        {%- do adapter.create_schema(ltv_builds_relation()) -%}
        {%- if blockers -%}
            {%- do ltv_switch_marts([], false, blockers | join('; ')) -%}
            {{ log('Nothing published: ' ~ blockers | join('; ') ~ '. Analysts keep'
                ~ ' the marts of the last published build.', info=True) }}
        {%- else -%}
            {%- do ltv_switch_marts(pairs, true, 'every node passed') -%}
            {{ log('Published the ' ~ pairs | length ~ ' marts of this build (as of '
                ~ ltv_as_of_date().split("'")[1] ~ ').', info=True) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#-
    Table ltv_builds beside the marts: one row per `dbt build` or `dbt run` that
    reached its end, published or not and why, so that an analyst (or the service)
    can tell which build the marts are from and whether the last one passed.
-#}
{% macro ltv_builds_relation() -%}
    {{ return(api.Relation.create(
        database=target.get('database'), schema=target.schema, identifier='ltv_builds',
        type='table',
    )) }}
{%- endmacro %}

{#- The statements that create ltv_builds when missing and record this invocation. -#}
{% macro ltv_record_build(is_published, detail, as_of_date=none) -%}
    {%- set relation = ltv_builds_relation() -%}
    {%- set text = dbt.type_string() -%}
    {%- set finished_at = modules.datetime.datetime.utcnow().strftime(
        '%Y-%m-%d %H:%M:%S.%f'
    ) -%}
    {%- set create -%}
    create table if not exists {{ relation }} (
        invocation_id {{ text }},
        command {{ text }},
        started_at {{ dbt.type_timestamp() }},
        finished_at {{ dbt.type_timestamp() }},
        as_of_date date,
        is_published boolean,
        detail {{ text }}
    )
    {%- endset -%}
    {%- set insert -%}
    insert into {{ relation }} values (
        '{{ invocation_id }}',
        '{{ flags.WHICH }}',
        {{ ltv_run_started_at() }},
        cast('{{ finished_at }}' as {{ dbt.type_timestamp() }}),
        {{ as_of_date or ltv_as_of_date() }},
        {{ 'true' if is_published else 'false' }},
        '{{ detail | replace("\\", "") | replace("'", "") }}'
    )
    {%- endset -%}
    {{ return([create, insert]) }}
{%- endmacro %}

{#-
    Replace each published mart of `pairs` by its pending twin and record the build
    (ltv_record_build), together. Dispatched.
-#}
{% macro ltv_switch_marts(pairs, is_published, detail) -%}
    {{ return(adapter.dispatch('ltv_switch_marts', 'ltv')(pairs, is_published, detail)) }}
{%- endmacro %}

{#- DuckDB: one transaction of drops and renames in the marts' schema. -#}
{% macro default__ltv_switch_marts(pairs, is_published, detail) -%}
    {%- call statement('ltv_switch_marts', auto_begin=False) -%}
        begin transaction;
        {{ ltv_record_build(is_published, detail) | join(';\n') }};
        {%- for pair in pairs %}
        drop table if exists {{ pair.published }};
        alter table {{ pair.pending }} rename to {{ adapter.quote(pair.published.identifier) }};
        {%- endfor %}
        commit;
    {%- endcall -%}
{%- endmacro %}

{#-
    PostgreSQL: one transaction. First it waits until no session's snapshot is
    older than the pending marts (a REPEATABLE READ transaction that took it
    before them would see them empty). Then it takes every published mart in
    ACCESS EXCLUSIVE mode, waiting for readers: an attempt that cannot have them
    all within half a second lets go of those it had (so that a reader between two
    marts is never deadlocked) and tries again. Both waits end at var
    ltv_publish_wait_seconds. Then it drops the published marts and moves the
    pending ones into their schema, with their grants, indexes and statistics.
-#}
{% macro postgres__ltv_switch_marts(pairs, is_published, detail) -%}
    {%- set live = pairs | selectattr('exists') | map(attribute='published') | list -%}
    {%- set wait_seconds = var('ltv_publish_wait_seconds', 300) | int -%}
    {%- set pending = [] -%}
    {%- for pair in pairs -%}
        {%- do pending.append(
            "'" ~ pair.pending.include(database=false) ~ "'::regclass"
        ) -%}
    {%- endfor -%}
    {#- dbt runs hooks in autocommit mode: the client opens and commits the
        transaction in statements of their own, so a build killed before its commit
        never publishes (one string of statements would commit on its own). -#}
    {%- call statement('ltv_switch_begin', auto_begin=False) -%} begin {%- endcall -%}
    {%- call statement('ltv_switch_marts', auto_begin=False) -%}
        {{ ltv_record_build(is_published, detail) | join(';\n') }};
        {%- if var('ltv_grants', true) and ltv_analyst_role_exists() %}
        grant select on {{ ltv_builds_relation() }} to {{ ltv_analyst_role() }};
        {%- endif %}
        do $ltv$
        declare
            deadline timestamptz := clock_timestamp()
                + interval '{{ wait_seconds }} seconds';
            holder text;
        begin
            -- A killed build's session notices at once, and lets go of its locks.
            perform set_config('client_connection_check_interval', '1s', true);
            {%- if pending %}
            loop
                select format('pid %s (%s)', activity.pid, activity.application_name)
                into holder
                from pg_catalog.pg_stat_activity as activity
                where activity.datname = current_database()
                    and activity.pid <> pg_backend_pid()
                    and activity.backend_type = 'client backend'
                    and age(activity.backend_xmin) >= (
                        select min(age(relations.xmin))
                        from pg_catalog.pg_class as relations
                        where relations.oid = any(array[{{ pending | join(', ') }}])
                    )
                limit 1;
                exit when holder is null;
                if clock_timestamp() > deadline then
                    raise exception 'a transaction older than the new marts is still '
                        'open after {{ wait_seconds }} s (var ltv_publish_wait_seconds): '
                        '%; nothing published', holder;
                end if;
                perform pg_sleep(0.1);
            end loop;
            {%- endif %}
            {%- if live %}
            perform set_config('lock_timeout', '500ms', true);
            loop
                begin
                    lock table {{ live | join(', ') }} in access exclusive mode;
                    exit;
                exception when lock_not_available or deadlock_detected then
                    if clock_timestamp() > deadline then
                        raise exception 'readers held the published marts for '
                            '{{ wait_seconds }} s (var ltv_publish_wait_seconds): '
                            'nothing published';
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
    {%- call statement('ltv_switch_commit', auto_begin=False) -%} commit {%- endcall -%}
{%- endmacro %}

{#-
    Spark has no transaction over several tables: each mart in turn replaces its
    published name (drop, then rename). The build is first recorded as switching,
    so that a switch cut short is finished by the next invocation
    (ltv_finish_interrupted_switch) before it runs anything.
-#}
{% macro spark__ltv_switch_marts(pairs, is_published, detail) -%}
    {%- if pairs -%}
        {%- for statement in ltv_record_build(false, 'switching') -%}
            {%- do run_query(statement) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- for pair in pairs -%}
        {%- do run_query('drop table if exists ' ~ pair.published) -%}
        {%- do run_query('alter table ' ~ pair.pending ~ ' rename to ' ~ pair.published) -%}
    {%- endfor -%}
    {%- for statement in ltv_record_build(is_published, detail) -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
{%- endmacro %}

{#-
    on-run-start (Spark): when the newest build recorded is still switching, it was
    killed in its switch, after every node passed; finish that switch first.
-#}
{% macro ltv_finish_interrupted_switch() -%}
    {%- if execute and target.type == 'spark'
        and flags.WHICH in ('build', 'run', 'test', 'seed')
        and load_relation(ltv_builds_relation()) is not none -%}
        {%- set newest = run_query(
            'select detail, cast(as_of_date as string) from ' ~ ltv_builds_relation()
            ~ ' order by finished_at desc limit 1'
        ) -%}
        {%- if newest.rows and newest.rows[0][0] == 'switching' -%}
            {%- set pairs = [] -%}
            {%- for node in ltv_mart_nodes().values() -%}
                {%- set published = api.Relation.create(
                    database=node.database, schema=node.schema,
                    identifier=node.alias, type='table',
                ) -%}
                {%- set pending = ltv_pending_relation(published) -%}
                {%- if load_relation(pending) is not none -%}
                    {%- do pairs.append({'published': published, 'pending': pending}) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- for pair in pairs -%}
                {%- do run_query('drop table if exists ' ~ pair.published) -%}
                {%- do run_query(
                    'alter table ' ~ pair.pending ~ ' rename to ' ~ pair.published
                ) -%}
            {%- endfor -%}
            {%- for statement in ltv_record_build(
                true, 'switch of an interrupted build finished',
                "cast('" ~ newest.rows[0][1] ~ "' as date)",
            ) -%}
                {%- do run_query(statement) -%}
            {%- endfor -%}
            {{ log('Finished the switch of a build killed while it published: '
                ~ pairs | length ~ ' marts renamed.', info=True) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
