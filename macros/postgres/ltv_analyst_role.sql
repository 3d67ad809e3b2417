{#
    Least privilege on PostgreSQL: analysts read the marts, and only the marts,
    through the group role named by var `ltv_analyst_role` (NOLOGIN: grant it to
    the analysts' own login roles). The marts' `grants` config gives it `select`
    on each mart; these macros create the role and give it `usage` on the marts'
    schema. Other engines: nothing.
#}

{#- The analyst role's name, checked: grants use it as an unquoted identifier. -#}
{% macro ltv_analyst_role() -%}
    {%- set role = var('ltv_analyst_role') -%}
    {%- if not modules.re.match('^[a-z_][a-z0-9_]*$', role | string) -%}
        {{ exceptions.raise_compiler_error(
            "var ltv_analyst_role must be a lowercase SQL identifier, got: " ~ role
        ) }}
    {%- endif -%}
    {{ return(role) }}
{%- endmacro %}

{#-
    on-run-start: create the analyst role when it is missing. Idempotent, and safe
    when two builds start at once (roles are cluster-wide). Creating it needs the
    CREATEROLE privilege only the first time.
-#}
{% macro ltv_create_analyst_role() -%}
    {%- if target.type == 'postgres' -%}
        do $ltv$
        begin
            if not exists (
                select from pg_catalog.pg_roles
                where rolname = '{{ ltv_analyst_role() }}'
            ) then
                create role {{ ltv_analyst_role() }} nologin;
            end if;
        exception
            when duplicate_object or unique_violation then null;
        end
        $ltv$
    {%- endif -%}
{%- endmacro %}

{#-
    on-run-end: `usage` on the target schema, so that the `select` grants on the
    marts take effect. Not in a write-audit-publish build (var
    `ltv_grant_schema_usage` false): scripts/publish.py grants it when it
    publishes, so analysts never see marts that have not passed their tests.
-#}
{% macro ltv_grant_schema_usage() -%}
    {%- if target.type == 'postgres' and var('ltv_grant_schema_usage') -%}
        do $ltv$
        begin
            if exists (
                select from pg_catalog.pg_namespace
                where nspname = '{{ target.schema }}'
            ) then
                grant usage on schema {{ adapter.quote(target.schema) }}
                    to {{ ltv_analyst_role() }};
            end if;
        end
        $ltv$
    {%- endif -%}
{%- endmacro %}
