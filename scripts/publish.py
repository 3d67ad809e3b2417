"""Write-audit-publish on PostgreSQL: analysts only ever see marts that passed.

Usage: python scripts/publish.py [--vars YAML] [other `dbt build` options]

1. Write: `dbt build --target postgres` into the schema `<DBT_SCHEMA>_build` (its
   layers in `<DBT_SCHEMA>_build_staging` and `_build_intermediate`; all dropped
   first, so every build starts clean). Analysts have no `usage` on it: var
   `ltv_grant_schema_usage` is false for this build, so they cannot read it even
   though the marts in it already carry their `select` grants.
2. Audit: the same `dbt build` runs every test; a failing test or model fails it. The
   script then checks that every table with an `as_of_date` holds one and the same
   date. If anything failed, it stops here: the published marts are untouched, and
   the build schema stays behind for inspection (the next run drops it).
3. Publish, in one transaction, for each layer: rename `<DBT_SCHEMA>` to
   `<DBT_SCHEMA>_retired` and the build schema to `<DBT_SCHEMA>` (and so for
   `_staging` and `_intermediate`), grant the analyst role `usage` on the marts'
   schema only, lock every relation of the retired schemas (ACCESS EXCLUSIVE) and
   drop them.

Readers see the old marts or the new ones, never a mix: the swap waits until no
reader holds a retired relation, and a reader that arrives meanwhile waits for the
commit and then reads the new schema. The locks are taken with a short
`lock_timeout` (shorter than PostgreSQL's default `deadlock_timeout`), so a reader
that reads several marts in one transaction is never chosen as a deadlock victim:
the swap gives up, rolls back and tries again, until `--publish-timeout`.

Connection settings are libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE
(the defaults of profiles.yml.example); the published schema is DBT_SCHEMA (default
`ltv`). One publish per schema runs at a time (an advisory lock). Exit status: 0
published; 1 the build failed (nothing published); 2 the audit or the swap failed, or
another publish was running (nothing published).
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import yaml
from psycopg2 import errors, sql

from ensure_postgres import connection_settings  # beside this script

PROJECT_DIR = Path(__file__).resolve().parent.parent
SELECTION_FLAGS = {
    "-s", "--select", "-m", "--models", "--exclude", "--selector", "--inline",
    "--resource-type", "--resource-types", "--exclude-resource-type",
}
LOCKABLE_RELKINDS = ("r", "p", "v", "m", "f")  # tables, views, materialized, foreign
# The schemas of one build, as suffixes of DBT_SCHEMA: the marts', then the layers'
# (the `+schema` of models and seeds in dbt_project.yml).
LAYER_SUFFIXES = ("", "_staging", "_intermediate")


def log(message: str) -> None:
    print(f"publish: {message}", flush=True)


def parse_args(argv: list) -> tuple:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="postgres", help="a postgres target")
    parser.add_argument("--vars", default="{}", help="dbt vars, YAML or JSON")
    parser.add_argument(
        "--lock-timeout-ms", type=int, default=500,
        help="how long one swap attempt waits for readers (keep under 1000)",
    )
    parser.add_argument(
        "--publish-timeout", type=float, default=120.0,
        help="seconds of swap attempts before giving up",
    )
    parser.add_argument(
        "--wait-for-other-publish", type=float, default=60.0,
        help="seconds to wait for a publish of the same schema that is running",
    )
    args, dbt_args = parser.parse_known_args(argv)
    selected = SELECTION_FLAGS.intersection(arg.split("=")[0] for arg in dbt_args)
    if selected:
        parser.error(
            f"{', '.join(sorted(selected))}: publish builds the whole project, "
            "or analysts would lose the marts left out"
        )
    return args, dbt_args


def project_vars() -> dict:
    with open(PROJECT_DIR / "dbt_project.yml") as file:
        return yaml.safe_load(file).get("vars", {})


def connect():
    return psycopg2.connect(
        dbname=os.environ.get("PGDATABASE", "postgres"),
        application_name="ltv_publish",
        **connection_settings(),
    )


def dbt_executable() -> str:
    beside_python = Path(sys.executable).with_name("dbt")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("dbt")
    if found is None:
        sys.exit("publish: no dbt executable beside this python or on PATH")
    return found


def schema_exists(cursor, schema: str) -> bool:
    cursor.execute("select 1 from pg_catalog.pg_namespace where nspname = %s", [schema])
    return cursor.fetchone() is not None


def hold_publish_lock(connection, published: str, wait_seconds: float) -> bool:
    """One publish per schema at a time: an advisory lock held by the connection, released when this
    process's connection ends (killed included). Waits for a running one a while."""
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("set local lock_timeout = {}").format(
                    sql.Literal(f"{int(wait_seconds * 1000)}ms")
                )
            )
            cursor.execute(
                "select pg_advisory_lock(hashtext(%s))", [f"ltv_publish:{published}"]
            )
        return True
    except errors.LockNotAvailable:
        return False


def drop_schema(connection, schema: str) -> None:
    with connection, connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema))
        )


def build(target: str, dbt_vars: dict, dbt_args: list, build_schema: str) -> int:
    command = [
        dbt_executable(), "build",
        "--project-dir", str(PROJECT_DIR),
        "--target", target,
        "--vars", json.dumps(dbt_vars),
        *dbt_args,
    ]
    environment = {**os.environ, "DBT_SCHEMA": build_schema}
    return subprocess.run(command, env=environment, check=False).returncode


def as_of_dates(connection, schema: str) -> dict:
    """Table name -> the distinct as_of_date values of each table that has one."""
    with connection, connection.cursor() as cursor:
        cursor.execute(
            """
            select columns.table_name
            from information_schema.columns as columns
            inner join information_schema.tables as tables
                on columns.table_schema = tables.table_schema
                and columns.table_name = tables.table_name
            where columns.table_schema = %s
                and columns.column_name = 'as_of_date'
                and tables.table_type = 'BASE TABLE'
            order by columns.table_name
            """,
            [schema],
        )
        tables = [row[0] for row in cursor.fetchall()]
        dates = {}
        for table in tables:
            cursor.execute(
                sql.SQL("select distinct as_of_date from {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
            )
            dates[table] = {row[0] for row in cursor.fetchall()}
    return dates


def audit(connection, build_schema: str) -> str | None:
    """None when the build schema holds marts of one as-of date; else the problem."""
    dates = as_of_dates(connection, build_schema)
    if not dates:
        return f"no table with an as_of_date in {build_schema}"
    found = set().union(*dates.values())
    if len(found) != 1:
        per_table = ", ".join(
            f"{table}: {sorted(str(day) for day in days)}"
            for table, days in dates.items()
        )
        return f"the marts disagree on as_of_date ({per_table})"
    return None


def swap(connection, published: str, build_schema: str, role: str,
         lock_timeout_ms: int) -> None:
    """One attempt at the publishing transaction; raises when a lock times out."""
    identifier = sql.Identifier
    with connection, connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("set local lock_timeout = {}").format(
                sql.Literal(f"{lock_timeout_ms}ms")
            )
        )
        retired_schemas = []
        for suffix in LAYER_SUFFIXES:
            live, built = published + suffix, build_schema + suffix
            retired = f"{live}_retired"
            if schema_exists(cursor, live):
                cursor.execute(
                    sql.SQL("alter schema {} rename to {}").format(
                        identifier(live), identifier(retired)
                    )
                )
                retired_schemas.append(retired)
            if schema_exists(cursor, built):
                cursor.execute(
                    sql.SQL("alter schema {} rename to {}").format(
                        identifier(built), identifier(live)
                    )
                )
        # As the build's own grants: none when turned off or the role is missing.
        cursor.execute("select 1 from pg_catalog.pg_roles where rolname = %s", [role])
        if role is not None and cursor.fetchone():
            cursor.execute(
                sql.SQL("grant usage on schema {} to {}").format(
                    identifier(published), identifier(role)
                )
            )
        cursor.execute(
            """
            select relations.oid::regclass::text
            from pg_catalog.pg_class as relations
            inner join pg_catalog.pg_namespace as schemas
                on relations.relnamespace = schemas.oid
            where schemas.nspname = any(%s)
                and relations.relkind = any(%s)
            order by 1
            """,
            [retired_schemas, list(LOCKABLE_RELKINDS)],
        )
        relations = [row[0] for row in cursor.fetchall()]
        if relations:
            cursor.execute(
                sql.SQL("lock table {} in access exclusive mode").format(
                    sql.SQL(", ").join(sql.SQL(name) for name in relations)
                )
            )
        for retired in retired_schemas:
            cursor.execute(
                sql.SQL("drop schema {} cascade").format(identifier(retired))
            )


def publish(connection, published: str, build_schema: str, role: str,
            lock_timeout_ms: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        attempt += 1
        try:
            swap(connection, published, build_schema, role, lock_timeout_ms)
            return True
        except (errors.LockNotAvailable, errors.DeadlockDetected) as error:
            if time.monotonic() >= deadline:
                log(f"gave up after {attempt} attempts: {error.pgerror.strip()}")
                return False
            log(f"readers hold the published marts; retrying (attempt {attempt})")
            time.sleep(random.uniform(0.05, 0.25))


def main(argv: list) -> int:
    args, dbt_args = parse_args(argv)
    published = os.environ.get("DBT_SCHEMA", "ltv")
    build_schema = f"{published}_build"
    dbt_vars = {**(yaml.safe_load(args.vars) or {}), "ltv_grant_schema_usage": False}
    settings = {**project_vars(), **dbt_vars}
    role = settings["ltv_analyst_role"] if settings["ltv_grants"] else None

    connection = connect()
    try:
        if not hold_publish_lock(connection, published, args.wait_for_other_publish):
            log(f"another publish of {published} is running: nothing done")
            return 2
        log(f"building into {build_schema}")
        for suffix in LAYER_SUFFIXES:
            drop_schema(connection, build_schema + suffix)
        if build(args.target, dbt_vars, dbt_args, build_schema) != 0:
            log(f"the build failed: nothing published, {published} is unchanged")
            return 1

        log(f"auditing {build_schema}")
        problem = audit(connection, build_schema)
        if problem:
            log(f"{problem}: nothing published, {published} is unchanged")
            return 2

        log(f"swapping {build_schema} into {published}")
        if not publish(connection, published, build_schema, role,
                       args.lock_timeout_ms, args.publish_timeout):
            log(f"nothing published, {published} is unchanged")
            return 2
        log(f"published {published}")
        return 0
    finally:
        connection.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
