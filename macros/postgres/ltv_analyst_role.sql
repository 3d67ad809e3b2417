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
    Whether the analyst role exists on the server (PostgreSQL; asked once a run).
-#}
{% macro ltv_analyst_role_exists() -%}
    {%- if not execute or target.type != 'postgres' -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set result = run_query(
        "select count(*) from pg_catalog.pg_roles where rolname = "
        ~ ltv_string_literal(ltv_analyst_role())
    ) -%}
    {{ return(result.rows[0][0] > 0) }}
{%- endmacro %}

{#-
    on-run-start: create the analyst role when it is missing and the build's user
    may create roles (CREATEROLE or superuser). A user who may not gets a warning
    and the run grants nothing (grants to a missing role would fail every mart);
    var `ltv_grants` false turns grants off altogether. Idempotent, and safe when
    two builds start at once (roles are cluster-wide).
-#}
{% macro ltv_create_analyst_role() -%}
    {%- if execute and target.type == 'postgres' and var('ltv_grants', true)
        and not ltv_analyst_role_exists() -%}
        {%- set may_create = run_query(
            "select rolcreaterole or rolsuper from pg_catalog.pg_roles"
            ~ " where rolname = current_user"
        ).rows[0][0] -%}
        {%- if may_create -%}
        do $ltv$
        begin
            if not exists (
                select from pg_catalog.pg_roles
                where rolname = {{ ltv_string_literal(ltv_analyst_role()) }}
            ) then
                create role {{ ltv_analyst_role() }} nologin;
            end if;
        exception
            when duplicate_object or unique_violation then null;
        end
        $ltv$
        {%- else -%}
            {%- do exceptions.warn(
                "role " ~ ltv_analyst_role() ~ " (var ltv_analyst_role) does not exist"
                ~ " and user " ~ target.user ~ " may not create roles: this run grants"
                ~ " analysts nothing. Ask an administrator to `create role "
                ~ ltv_analyst_role() ~ " nologin`, or set var ltv_grants to false."
            ) -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#-
    dbt's grants, on PostgreSQL: the analyst role only when it exists (a build by a
    user who could not create it warns in ltv_create_analyst_role and grants
    nothing); other grantees as configured.
-#}
{% macro postgres__apply_grants(relation, grant_config, should_revoke=True) -%}
    {%- set config = {} -%}
    {%- set role_exists = ltv_analyst_role_exists() if grant_config else false -%}
    {%- for privilege, grantees in (grant_config or {}).items() -%}
        {%- set kept = [] -%}
        {%- for grantee in grantees -%}
            {%- if grantee != ltv_analyst_role() or role_exists -%}
                {%- do kept.append(grantee) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if kept -%}
            {%- do config.update({privilege: kept}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(default__apply_grants(relation, config, should_revoke)) }}
{%- endmacro %}

{#-
    on-run-end: `usage` on the target schema, so that the `select` grants on the
    marts take effect. The pending marts' schema (`<schema>_pending`) never gets it:
    analysts see a mart once it is published.
-#}
{% macro ltv_grant_schema_usage() -%}
    {%- if target.type == 'postgres'
        and var('ltv_grants', true) and ltv_analyst_role_exists() -%}
        do $ltv$
        begin
            if exists (
                select from pg_catalog.pg_namespace
                where nspname = {{ ltv_string_literal(target.schema) }}
            ) then
                grant usage on schema {{ adapter.quote(target.schema) }}
                    to {{ ltv_analyst_role() }};
            end if;
        end
        $ltv$
    {%- endif -%}
{%- endmacro %}
