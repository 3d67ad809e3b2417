{#
    on-run-end: a failed test says what to fix, not only `Got 1 result`. For each
    test that failed, the console gets its count and first rows: the currency and
    month of a missing FX rate, the value and column of a raw stamp that is no
    date, a currency and month the shop's own rates give twice. It reruns only
    the tests that failed, and reads their first rows only.
#}

{#- The number of rows each failure message shows. -#}
{% macro ltv_failed_test_example_rows() -%}
    {{ return(3) }}
{%- endmacro %}

{#- One failed test's rows as text: `(column = value, ...)`, one per row. -#}
{% macro ltv_failed_test_rows(node) -%}
    {%- set table = run_query(
        'select * from (' ~ node.compiled_code ~ ') as failures limit '
        ~ ltv_failed_test_example_rows()
    ) -%}
    {%- set rows = [] -%}
    {%- for row in table.rows -%}
        {%- set cells = [] -%}
        {%- for column in table.column_names -%}
            {%- set value = row[column] -%}
            {%- do cells.append(
                column ~ ' = ' ~ ('null' if value is none else "'" ~ value ~ "'")
            ) -%}
        {%- endfor -%}
        {%- do rows.append('(' ~ cells | join(', ') ~ ')') -%}
    {%- endfor -%}
    {{ return(rows) }}
{%- endmacro %}

{% macro ltv_explain_failed_tests(results) -%}
    {%- if execute -%}
        {%- for result in results
            if result.status == 'fail' and result.node.resource_type == 'test'
            and result.node.compiled_code -%}
            {%- set node = result.node -%}
            {{ log(
                'Failed test ' ~ node.name
                ~ (' (column ' ~ node.column_name ~ ')' if node.column_name else '')
                ~ ': ' ~ result.failures ~ ' failing row(s); the first: '
                ~ ltv_failed_test_rows(node) | join(', '),
                info=True
            ) }}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
