"""The demo builds to the same marts on DuckDB and PostgreSQL, with the indexes.

`make test` builds the demo on both engines; this suite does the same in its own
DuckDB file and PostgreSQL database and compares every column of every mart row by
row, so an engine difference in month arithmetic, percentiles or decimal division
cannot hide behind the reference comparison's tolerance of a single engine.
"""

import json
import os

import pytest

from conftest import MARTS
from harness.dbt_runs import build_in_process
from harness.warehouses import DuckDbWarehouse, PostgresWarehouse
from test_marts_match_reference import MART_KEYS, column_differences

DEMO_VARS = json.dumps({"ltv_as_of_date": "2026-07-01"})
MART_SCHEMA = "ltv_engines"
DEMO_DATABASE = "ltv_pytest_engines" + os.environ.get("LTV_TEST_DB_SUFFIX", "")


@pytest.fixture(scope="module")
def demo_builds(profiles_dir, tmp_path_factory):
    duck = DuckDbWarehouse(tmp_path_factory.mktemp("engines_duckdb"), MART_SCHEMA)
    postgres = PostgresWarehouse(DEMO_DATABASE, MART_SCHEMA)
    postgres.create_database()
    for warehouse, work_dir in (
        (duck, duck.path.parent),
        (postgres, tmp_path_factory.mktemp("engines_postgres")),
    ):
        build_in_process(
            warehouse.target, DEMO_VARS, work_dir, profiles_dir, warehouse.dbt_env(),
            "--exclude", "test_type:unit",
        )
    return duck, postgres


@pytest.mark.parametrize("mart", MARTS)
def test_mart_is_the_same_on_both_engines(demo_builds, mart):
    duck, postgres = demo_builds
    on_duckdb = duck.read_table(MART_SCHEMA, mart)
    on_postgres = postgres.read_table(MART_SCHEMA, mart)
    assert on_duckdb.rows, f"{mart} is empty on DuckDB"
    problems = column_differences(on_duckdb.rows, on_postgres, MART_KEYS[mart])
    assert not problems, f"{mart}, DuckDB (expected) vs PostgreSQL:\n" + "\n".join(
        problems
    )


def test_user_ltv_is_indexed_by_user_only_on_postgres(demo_builds):
    """At most the primary key's index: the user list is the service's (serve/,
    from its own in-memory copy), so the build pays for no list index."""
    _, postgres = demo_builds
    indexes = postgres.query_table(
        "select indexdef from pg_indexes "
        f"where schemaname = '{MART_SCHEMA}' and tablename = 'user_ltv'"
    )
    columns = {row["indexdef"].split("(", 1)[1].rstrip(")") for row in indexes.rows}
    assert columns <= {"user_id"}, columns
