{#
    The raw tables' contract, checked before anything else runs: every column the
    project reads must exist with a type of the right kind. A shop whose table
    differs (a column named `amount`, no `currency`) gets one error that lists what
    the project expects and what it found, not a bare database error later. The
    fix is a view over the shop's table (README, "Point it at your own data").
#}

{#- Column -> kinds of type it may have, per raw table (README lists them). -#}
{% macro ltv_raw_columns_expected() -%}
    {{ return({
        'users': {
            'user_id': ['integer', 'text'],
            'created_at': ['timestamp', 'text'],
            'acquisition_channel': ['text'],
        },
        'orders': {
            'order_id': ['integer', 'text'],
            'user_id': ['integer', 'text'],
            'created_at': ['timestamp', 'text'],
            'updated_at': ['timestamp', 'text'],
            'status': ['text'],
            'total_amount': ['decimal', 'integer', 'text'],
            'currency': ['text'],
        },
    }) }}
{%- endmacro %}

{#- The kind of a lower-case database type: text, integer, decimal, timestamp, other. -#}
{% macro ltv_type_kind(data_type) -%}
    {%- set re = modules.re -%}
    {%- if re.match('^(text|string|varchar|character|char|bpchar|nvarchar)', data_type) -%}
        {{ return('text') }}
    {%- elif re.match(
        '^(smallint|integer|int|bigint|hugeint|tinyint|ubigint|uinteger|usmallint'
        ~ '|utinyint|uhugeint|long|short)([^a-z]|$)', data_type
    ) -%}
        {{ return('integer') }}
    {%- elif re.match('^(numeric|decimal|double|real|float)', data_type) -%}
        {{ return('decimal') }}
    {%- elif re.match('^(timestamp|date|datetime)', data_type) -%}
        {{ return('timestamp') }}
    {%- endif -%}
    {{ return('other') }}
{%- endmacro %}

{#-
    The problems of one raw table, as text lines (empty when it fits): `types` is
    ltv_column_types() of the table (lower-case name -> lower-case type).
-#}
{% macro ltv_raw_column_problems(table, types, relation) -%}
    {%- set problems = [] -%}
    {%- set expected = ltv_raw_columns_expected()[table] -%}
    {%- for column, kinds in expected.items() -%}
        {%- if column not in types -%}
            {%- do problems.append('missing column ' ~ column) -%}
        {%- elif ltv_type_kind(types[column]) not in kinds -%}
            {%- do problems.append(
                'column ' ~ column ~ ' is ' ~ types[column] ~ ', not '
                ~ kinds | join(' or ')
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if problems -%}
        {%- set wanted = [] -%}
        {%- for column, kinds in expected.items() -%}
            {%- do wanted.append(column ~ ' (' ~ kinds | join(' or ') ~ ')') -%}
        {%- endfor -%}
        {%- set found = [] -%}
        {%- for column, data_type in types.items() -%}
            {%- do found.append(column ~ ' ' ~ data_type) -%}
        {%- endfor -%}
        {%- set lines = [
            'raw table ' ~ relation ~ ' (source shop.' ~ table ~ '): '
            ~ problems | join('; '),
            '    the project expects: ' ~ wanted | join(', '),
            '    it found: ' ~ (found | join(', ') if found else 'no columns'),
        ] -%}
        {{ return(lines) }}
    {%- endif -%}
    {{ return([]) }}
{%- endmacro %}

{#- One compiler error for all the problems found, with what to do. -#}
{% macro ltv_raise_raw_column_problems(lines) -%}
    {%- if lines -%}
        {{ exceptions.raise_compiler_error(
            "The raw tables do not have the columns the project reads:\n"
            ~ lines | join('\n')
            ~ "\nPoint var ltv_source_schema at a schema whose users and orders have"
            ~ " these columns: a view can rename or add them (`amount as total_amount`,"
            ~ " `cast(null as varchar) as currency`); see the README."
        ) }}
    {%- endif -%}
{%- endmacro %}

{#-
    In a staging model, at execution: check the table it reads. No types (a unit
    test's fixture, a table not there yet) means nothing to check here.
-#}
{% macro ltv_check_raw_columns(table, types, relation) -%}
    {%- if execute and types -%}
        {%- do ltv_raise_raw_column_problems(
            ltv_raw_column_problems(table, types, relation)
        ) -%}
    {%- endif -%}
{%- endmacro %}

{#-
    on-run-start of build, run and test: check every var (ltv_check_vars), refuse
    a future as-of date and check both raw tables before any node runs. A raw table that does not exist is an error on
    real data; in the demo the seeds create it later in the same build.
-#}
{% macro ltv_preflight() -%}
    {%- if execute and invocation_args_dict.get('which') in ('build', 'run', 'test') -%}
        {%- do ltv_check_vars() -%}
        {%- do ltv_as_of_date() -%}
        {%- set is_demo = var('ltv_source_schema') == 'ltv_demo_raw' -%}
        {%- set lines = [] -%}
        {%- for node in graph.sources.values()
            if node.source_name == 'shop' and node.name in ('users', 'orders') -%}
            {%- set relation = adapter.get_relation(
                database=node.database, schema=node.schema, identifier=node.identifier
            ) -%}
            {%- if relation is none and not is_demo -%}
                {%- do lines.append(
                    'raw table ' ~ node.schema ~ '.' ~ node.identifier
                    ~ ' (source shop.' ~ node.name ~ ') does not exist'
                    ~ ' (var ltv_source_schema is ' ~ var('ltv_source_schema') ~ ')'
                ) -%}
            {%- elif relation is not none -%}
                {%- do lines.extend(ltv_raw_column_problems(
                    node.name, ltv_column_types(relation), relation
                )) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do ltv_raise_raw_column_problems(lines) -%}
    {%- endif -%}
{%- endmacro %}
