{#
    PostgreSQL only, for the models dbt materializes as tables and for the seeds
    (other engines and views: nothing). A table dbt has just created or loaded has
    no planner statistics until autovacuum gets to it, so the next model plans
    blind: analyze it at once. The default work_mem (4 MB) sends every sort and
    hash of millions of rows to disk: raise it (var ltv_postgres_work_mem). Var
    ltv_postgres_jit turns JIT on or off; null, the default, keeps the server's
    setting. dbt runs hooks outside a transaction block, where `set local` does
    nothing: these are session settings, and every table's pre-hook sets or resets
    each of them, so no model inherits another's (a model's own pre-hook, which
    runs after this one, may still change them for itself).
#}

{%- macro ltv_is_postgres_table() -%}
    {{ return(
        target.type == 'postgres'
        and config.get('materialized') in ('table', 'incremental', 'seed', 'mart')
    ) }}
{%- endmacro %}

{#- pre-hook: the session's settings for the model. -#}
{% macro ltv_postgres_session_settings() -%}
    {%- if ltv_is_postgres_table() -%}
        {%- set settings = [] -%}
        {%- if var('ltv_postgres_work_mem') -%}
            {%- set work_mem = var('ltv_postgres_work_mem') | string -%}
            {%- if not modules.re.match('^[0-9]+ ?[kMG]B$', work_mem) -%}
                {{ exceptions.raise_compiler_error(
                    "var ltv_postgres_work_mem must be a size such as '256MB', got: "
                    ~ work_mem
                ) }}
            {%- endif -%}
            {%- do settings.append("set work_mem = '" ~ work_mem ~ "'") -%}
        {%- else -%}
            {%- do settings.append("reset work_mem") -%}
        {%- endif -%}
        {%- if var('ltv_postgres_jit') is not none -%}
            {%- if var('ltv_postgres_jit') is not boolean -%}
                {{ exceptions.raise_compiler_error(
                    "var ltv_postgres_jit must be true, false or null, got: "
                    ~ var('ltv_postgres_jit')
                ) }}
            {%- endif -%}
            {%- do settings.append(
                'set jit = ' ~ ('on' if var('ltv_postgres_jit') else 'off')
            ) -%}
        {%- else -%}
            {%- do settings.append("reset jit") -%}
        {%- endif -%}
        {{ settings | join(';\n') }}
    {%- endif -%}
{%- endmacro %}

{#- post-hook: a mart is built as its pending twin (macros/publish/). -#}
{% macro ltv_postgres_analyze() -%}
    {%- if ltv_is_postgres_table() -%}
        analyze {{
            ltv_pending_relation(this) if config.get('materialized') == 'mart' else this
        }}
    {%- endif -%}
{%- endmacro %}
