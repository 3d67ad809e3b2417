"""Least privilege and publishing on PostgreSQL.

One database for the module: the generated dirty dataset, published once with a
plain `dbt build`. The analyst role then reads every mart (and the build log) and
nothing else, and writes nowhere; a build that fails publishes nothing, and analysts
keep the last good marts, all of one as-of date.
"""

import json
import re
import subprocess
from datetime import datetime
from typing import NamedTuple

import psycopg2
import pytest
from psycopg2 import errors, sql

from harness import PROJECT_DIR
from harness.dbt_runs import failed, mart_names, run_dbt
from reliability_support import (
    ANALYST_ROLE,
    AS_OF,
    MART_SCHEMA,
    OTHER_AS_OF,
    RAW_SCHEMA,
    PostgresDatabase,
    analyst_session,
    generated_dataset,
    mart_as_of_dates,
    run_build,
)

PENDING_SCHEMA = f"{MART_SCHEMA}_pending"
BUILD_LOG = "ltv_builds"


class Published(NamedTuple):
    database: PostgresDatabase
    target_dir: object  # of the publishing dbt build
    marts: list


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp("least_privilege")
    database = PostgresDatabase("privilege")
    try:
        database.load_raw(generated_dataset())
        run = run_build(database, work_dir, "publish", AS_OF)
        assert run.returncode == 0, run.output[-4000:]
        yield Published(database, run.target_dir, mart_names(run))
    finally:
        database.drop_database()


def attempt(connection, statement) -> Exception | None:
    """Run one statement as its own transaction; the error it raised, if any."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
        connection.commit()
        return None
    except psycopg2.Error as error:
        connection.rollback()
        return error


def relation(schema: str, name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))


def test_the_marts_are_those_of_the_contract(published):
    assert published.marts == sorted(
        [
            "user_ltv", "ltv_summary", "ltv_segments", "ltv_distribution",
            "ltv_cohorts", "ltv_by_channel", "user_rfm", "order_audit",
            "clv_model_parameters", "user_clv", "clv_backtest",
            "clv_backtest_measures", "clv_backtest_deciles",
        ]
    )


CLV_MARTS = (
    "clv_model_parameters", "user_clv", "clv_backtest", "clv_backtest_measures",
    "clv_backtest_deciles",
)


def test_analyst_reads_every_mart(published):
    connection = analyst_session(published.database)
    try:
        for mart in [*published.marts, BUILD_LOG]:
            with connection.cursor() as cursor:
                cursor.execute(
                    sql.SQL("select count(*) from {}").format(
                        relation(MART_SCHEMA, mart)
                    )
                )
                rows = cursor.fetchone()[0]
            # The CLV marts are empty until `make fit-clv` fits this source.
            assert rows > 0 or mart in CLV_MARTS, mart
            connection.commit()
    finally:
        connection.close()


def test_each_layer_is_published_in_its_own_schema(published):
    """The marts' schema holds the marts, the build log and the semantic layer's
    calendar; the staging models and seeds, and the intermediate models, sit beside
    it; the pending marts were all switched in."""
    relations = published.database.relations
    assert set(relations(MART_SCHEMA)) == {
        *published.marts, BUILD_LOG, "metricflow_time_spine",
    }
    staging = set(relations(f"{MART_SCHEMA}_staging"))
    assert {"stg_shop__orders", "stg_shop__users", "fx_rates", "ecb_fx_rates"} <= staging
    intermediate = set(relations(f"{MART_SCHEMA}_intermediate"))
    assert intermediate and all(name.startswith("int_") for name in intermediate)
    assert relations(PENDING_SCHEMA) == {}
    ((is_published, detail),) = published.database.query(
        sql.SQL("select is_published, detail from {}").format(
            relation(MART_SCHEMA, BUILD_LOG)
        )
    )
    assert (is_published, detail) == (True, "every node passed")


def test_analyst_reads_nothing_but_the_marts(published):
    others = {
        (MART_SCHEMA, name)
        for name in published.database.relations(MART_SCHEMA)
        if name not in (*published.marts, BUILD_LOG)
    }
    for schema in (f"{MART_SCHEMA}_staging", f"{MART_SCHEMA}_intermediate", RAW_SCHEMA):
        others |= {(schema, name) for name in published.database.relations(schema)}
    # Staging and intermediate models, the seeds, and the raw tables.
    assert {"stg_shop__orders", "int_orders_classified", "fx_rates"} <= {
        name for _, name in others
    }
    assert {(RAW_SCHEMA, "users"), (RAW_SCHEMA, "orders")} <= others

    connection = analyst_session(published.database)
    try:
        for schema, name in sorted(others):
            error = attempt(
                connection,
                sql.SQL("select * from {} limit 1").format(relation(schema, name)),
            )
            assert isinstance(error, errors.InsufficientPrivilege), (
                schema, name, error,
            )
    finally:
        connection.close()

    (usage,) = published.database.query(
        """
        select array_agg(nspname::text order by nspname::text)
        from pg_catalog.pg_namespace
        where has_schema_privilege(%s, oid, 'USAGE')
            and nspname not in ('pg_catalog', 'information_schema', 'public')
            and nspname not like 'pg\\_%%'
        """,
        [ANALYST_ROLE],
    )[0]
    assert usage == [MART_SCHEMA]


def test_analyst_writes_nowhere(published):
    database = published.database
    # Catalog-wide: no write privilege on any relation of the database.
    writable = database.query(
        """
        select relations.oid::regclass::text
        from pg_catalog.pg_class as relations
        inner join pg_catalog.pg_namespace as namespaces
            on relations.relnamespace = namespaces.oid
        where relations.relkind in ('r', 'v', 'm', 'p', 'f')
            and namespaces.nspname not in ('pg_catalog', 'information_schema')
            and has_table_privilege(
                %s, relations.oid,
                'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER'
            )
        """,
        [ANALYST_ROLE],
    )
    assert writable == []
    creatable = database.query(
        """
        select nspname::text from pg_catalog.pg_namespace
        where has_schema_privilege(%s, oid, 'CREATE')
        """,
        [ANALYST_ROLE],
    )
    assert creatable == []
    assert database.query(
        "select has_database_privilege(%s, current_database(), 'CREATE')",
        [ANALYST_ROLE],
    ) == [(False,)]

    # And the attempts themselves fail.
    mart = relation(MART_SCHEMA, "user_ltv")
    statements = [
        sql.SQL("insert into {} select * from {} limit 1").format(mart, mart),
        sql.SQL("update {} set revenue_lifetime = 0").format(mart),
        sql.SQL("delete from {}").format(mart),
        sql.SQL("truncate {}").format(mart),
        sql.SQL("drop table {}").format(mart),
        sql.SQL("alter table {} add column forged integer").format(mart),
        sql.SQL("create table {} (forged integer)").format(
            relation(MART_SCHEMA, "forged")
        ),
        sql.SQL("create view {} as select 1 as forged").format(
            relation(MART_SCHEMA, "forged_view")
        ),
        sql.SQL("create table {} (forged integer)").format(
            relation(RAW_SCHEMA, "forged")
        ),
        sql.SQL("create table public.forged (forged integer)"),
        sql.SQL("create schema forged"),
        sql.SQL("insert into {} select * from {} limit 1").format(
            relation(RAW_SCHEMA, "orders"), relation(RAW_SCHEMA, "orders")
        ),
    ]
    connection = analyst_session(database)
    try:
        for statement in statements:
            error = attempt(connection, statement)
            assert isinstance(error, errors.InsufficientPrivilege), (
                statement.as_string(connection), error,
            )
    finally:
        connection.close()


def test_analyst_role_has_no_other_power(published):
    (role,) = published.database.query(
        """
        select rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication,
            rolcanlogin
        from pg_catalog.pg_roles where rolname = %s
        """,
        [ANALYST_ROLE],
    )
    # NOLOGIN: a group role, granted to the analysts' own login roles.
    assert role == (False, False, False, False, False, False)
    member_of = published.database.query(
        """
        select roleid::regrole::text from pg_catalog.pg_auth_members
        where member = %s::regrole
        """,
        [ANALYST_ROLE],
    )
    assert member_of == []


def test_grants_are_only_for_postgres(published, tmp_path):
    """Select on the marts only; on DuckDB the grants config renders to nothing."""
    manifest = json.loads((published.target_dir / "manifest.json").read_text())
    models = [
        node for node in manifest["nodes"].values() if node["resource_type"] == "model"
    ]
    for node in models:
        expected = {"select": [ANALYST_ROLE]} if node["name"] in published.marts else {}
        assert node["config"]["grants"] == expected, node["name"]

    run = run_dbt(
        [
            "ls", "--target", "duckdb", "--resource-type", "model",
            "--output", "json", "--output-keys", "name config",
            "--vars", json.dumps({"ltv_source_schema": RAW_SCHEMA}),
        ],
        {**published.database.env(), "DBT_DUCKDB_PATH": str(tmp_path / "ls.duckdb")},
        tmp_path,
        "ls_duckdb",
    )
    assert run.returncode == 0, run.output[-2000:]
    duckdb_grants = {
        node["name"]: node["config"]["grants"]
        for node in map(json.loads, filter(lambda line: line.startswith("{"),
                                           run.output.splitlines()))
    }
    assert set(duckdb_grants) == {node["name"] for node in models}
    assert all(grant == {} for grant in duckdb_grants.values())


def test_no_secret_in_the_repository():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "profiles.yml" not in tracked
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "profiles.yml"], cwd=PROJECT_DIR, check=False
    )
    assert ignored.returncode == 0, "profiles.yml must be gitignored"
    credential = re.compile(r"^\s*(password|pass|token|secret)\s*:\s*(.*)$", re.I)
    for path in tracked:
        if not path.endswith((".yml", ".yaml", ".example")):
            continue
        for number, line in enumerate(
            (PROJECT_DIR / path).read_text(errors="replace").splitlines(), 1
        ):
            match = credential.match(line)
            if match:
                assert "env_var(" in match.group(2), f"{path}:{number}: {line.strip()}"


# ------------------------------------------------------------------- publishing


def with_failure(dataset, kind: str):
    """The dataset made to fail one test of the build."""
    users, orders = list(dataset.users), list(dataset.orders)
    if kind == "duplicate_user_id":  # fails unique on stg_shop__users, early
        users.append({**users[0], "acquisition_channel": "duplicate"})
    elif kind == "revenue_order_without_fx_rate":  # fails a data test mid-graph
        user = next(u for u in users if u["created_at"].date() < OTHER_AS_OF)
        orders.append(
            {
                "order_id": max(o["order_id"] for o in orders) + 1,
                "user_id": user["user_id"],
                "created_at": datetime(2025, 10, 5, 12, 0),
                "updated_at": None,
                "status": "paid",
                "total_amount": "1500.00",
                "currency": "XTS",  # no rate: the ECB never published it
            }
        )
    return type(dataset)(users, orders)


@pytest.mark.parametrize(
    "kind, failing_test",
    [
        ("duplicate_user_id", "unique_stg_shop__users_user_id"),
        ("revenue_order_without_fx_rate", "assert_fx_rate_exists_for_revenue_orders"),
    ],
)
def test_a_failing_build_publishes_nothing(published, tmp_path, kind, failing_test):
    database = published.database
    before = database.fingerprint(MART_SCHEMA, published.marts)
    raw_schema = f"ltv_reliability_raw_{kind}"
    database.load_raw(with_failure(generated_dataset(), kind), schema=raw_schema)

    run = run_build(
        database, tmp_path, "failing", OTHER_AS_OF, source_schema=raw_schema
    )

    assert run.returncode == 1, run.output[-4000:]
    assert "Nothing published" in run.output
    assert failing_test in failed(run.results)
    # Analysts keep the last good marts, whole and of one as-of date.
    assert database.fingerprint(MART_SCHEMA, published.marts) == before
    assert mart_as_of_dates(database, MART_SCHEMA, published.marts) == {AS_OF}
    # What the failed build made stays for inspection, out of the analysts' reach.
    assert PENDING_SCHEMA in database.schemas()
    assert database.query(
        "select has_schema_privilege(%s, %s, 'USAGE')", [ANALYST_ROLE, PENDING_SCHEMA]
    ) == [(False,)]
