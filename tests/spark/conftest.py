"""Fixtures that build the demo once on Spark and once on DuckDB, in this process.

Like tests/python/conftest.py (and dbt's own adapter tests), dbt runs in-process
through `dbtRunner` (tests/harness), against a copy of profiles.yml.example. Spark is
the profile's `spark` target, a local session (dbt-spark `method: session`) whose
tables and Hive metastore live under pytest's tmp dir (DBT_SPARK_DIR); since the
session lives in this process, the marts are read back through it. DuckDB: a fresh
file there too.

Needs the Spark stack: `make test-spark` (.venv-spark, requirements-spark.txt).
"""

import json
from pathlib import Path
from typing import NamedTuple

import pytest

from harness.dbt_runs import build_in_process, profiles_dir  # noqa: F401

DEMO_VARS = {"ltv_as_of_date": "2026-07-01"}  # the Makefile's DEMO_AS_OF
SCHEMA = "ltv_spark_pytest"
MARTS = (
    "user_ltv",
    "ltv_summary",
    "ltv_segments",
    "ltv_distribution",
    "order_audit",
    "ltv_cohorts",
    "ltv_by_channel",
    "user_rfm",
    "clv_model_parameters",
    "user_clv",
    "clv_backtest",
    "clv_backtest_measures",
    "clv_backtest_deciles",
)


class Mart(NamedTuple):
    """A mart as read back from the warehouse."""

    columns: list
    types: list  # the engine's own type names, in column order
    rows: list  # of dicts


class Build(NamedTuple):
    """What one `dbt build` of the demo left behind."""

    marts: dict  # mart name -> Mart
    manifest: dict
    run_results: dict


def build_demo(target: str, work_dir: Path, profiles_dir: Path, env: dict) -> tuple:
    """`dbt build` of the demo (seeds, models, data and unit tests) on one target."""
    build_in_process(
        target, json.dumps(DEMO_VARS), work_dir, profiles_dir,
        {**env, "DBT_SCHEMA": SCHEMA},
    )
    artifacts = [
        json.loads((work_dir / "target" / name).read_text())
        for name in ("manifest.json", "run_results.json")
    ]
    return tuple(artifacts)


@pytest.fixture(scope="session")
def spark_build(profiles_dir, tmp_path_factory):
    """The demo built on the `spark` target; the session is stopped afterwards."""
    from pyspark.sql import SparkSession

    work_dir = tmp_path_factory.mktemp("spark")
    manifest, run_results = build_demo(
        "spark", work_dir, profiles_dir, {"DBT_SPARK_DIR": str(work_dir / "spark")}
    )
    # dbt-spark created the session in this process; this returns that one.
    session = SparkSession.builder.getOrCreate()
    marts = {}
    for name in MARTS:
        frame = session.table(f"{SCHEMA}.{name}")
        marts[name] = Mart(
            columns=frame.columns,
            types=[field.dataType.simpleString() for field in frame.schema.fields],
            rows=[row.asDict() for row in frame.collect()],
        )
    yield Build(marts, manifest, run_results)
    session.stop()


@pytest.fixture(scope="session")
def duckdb_build(profiles_dir, tmp_path_factory) -> Build:
    """The demo built on the `duckdb` target, in a fresh file."""
    import duckdb

    work_dir = tmp_path_factory.mktemp("duckdb")
    path = work_dir / "demo.duckdb"
    manifest, run_results = build_demo(
        "duckdb", work_dir, profiles_dir, {"DBT_DUCKDB_PATH": str(path)}
    )
    marts = {}
    # Not read-only: dbt-duckdb still holds the file open, with its default settings.
    with duckdb.connect(str(path)) as connection:
        for name in MARTS:
            cursor = connection.execute(f"select * from {SCHEMA}.{name}")
            columns = [column[0] for column in cursor.description]
            marts[name] = Mart(
                columns=columns,
                types=[str(column[1]) for column in cursor.description],
                rows=[dict(zip(columns, record)) for record in cursor.fetchall()],
            )
    return Build(marts, manifest, run_results)
