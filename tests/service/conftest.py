"""The service's tests: the demo built once per engine and session, served by the app.

Each engine's demo warehouse (the demo seeds, as of the demo's fixed date) is built
once per test session with `dbt build` (a subprocess), into a DuckDB file under pytest's
tmp dir and a PostgreSQL database of its own (`ltv_serve_test`, plus
LTV_TEST_DB_SUFFIX). The tests read the marts straight from the warehouse for their
expectations, and ask the service (FastAPI's TestClient) for its answers.
"""

import json
import os
import warnings
from typing import NamedTuple

import pytest
from pydantic import SecretStr

from harness.dbt_runs import failed, run_dbt
from harness.warehouses import DuckDbWarehouse, PostgresWarehouse

# starlette's TestClient warns about httpx on import; the client is the one FastAPI documents.
warnings.filterwarnings("ignore", message=".*httpx.*", category=DeprecationWarning)
from fastapi.testclient import TestClient  # noqa: E402

from serve.app.core.config import Settings  # noqa: E402
from serve.app.main import create_app  # noqa: E402

ENGINES = ["duckdb", "postgres"]
DEMO_AS_OF = "2026-07-01"
DEMO_VARS = json.dumps({"ltv_as_of_date": DEMO_AS_OF})
MART_SCHEMA = "ltv_serve"
POSTGRES_DATABASE = "ltv_serve_test" + os.environ.get("LTV_TEST_DB_SUFFIX", "")
TOKEN = "test-token"


class Demo(NamedTuple):
    """A built demo warehouse and the service's settings over it."""

    engine: str
    warehouse: object
    settings: Settings

    def mart(self, name: str) -> list:
        return self.warehouse.read_table(MART_SCHEMA, name).rows


def build_demo(engine: str, work_dir) -> Demo:
    if engine == "duckdb":
        warehouse = DuckDbWarehouse(work_dir, MART_SCHEMA)
        settings = Settings(dbt_target="duckdb", dbt_duckdb_path=str(warehouse.path),
                            dbt_schema=MART_SCHEMA)  # fmt: skip
    else:
        warehouse = PostgresWarehouse(POSTGRES_DATABASE, MART_SCHEMA)
        server = warehouse.server
        settings = Settings(dbt_target="postgres", dbt_schema=MART_SCHEMA,
                            pghost=server["host"], pgport=int(server["port"]),
                            pguser=server["user"], pgpassword=server["password"],
                            pgdatabase=POSTGRES_DATABASE)  # fmt: skip
    warehouse.create_database()
    # A subprocess, as in production: dbt in-process would keep the DuckDB file open.
    run = run_dbt(["build", "--target", engine, "--vars", DEMO_VARS], warehouse.env(),
                  work_dir, "build")  # fmt: skip
    assert run.returncode == 0, failed(run.results) or run.output[-3000:]
    settings = settings.model_copy(update={
        "dbt_vars": DEMO_VARS, "ltv_serve_token": SecretStr(TOKEN),
        # The tests refresh when they mean to.
        "ltv_serve_reload_seconds": 3600,
    })  # fmt: skip
    return Demo(engine, warehouse, settings)


@pytest.fixture(scope="session")
def demos(tmp_path_factory):
    """Engine -> its demo, each built on first use, once per session."""
    built = {}

    def demo(engine: str) -> Demo:
        if engine not in built:
            work_dir = tmp_path_factory.mktemp(f"serve_{engine}")
            built[engine] = build_demo(engine, work_dir)
        return built[engine]

    yield demo
    for demo_ in built.values():
        if demo_.engine == "postgres":
            demo_.warehouse.drop_database()


@pytest.fixture(scope="module", params=ENGINES)
def demo(request, demos) -> Demo:
    return demos(request.param)


@pytest.fixture(scope="module")
def client(demo):
    """The service over the demo's published marts."""
    with TestClient(create_app(demo.settings)) as client:
        yield client


@pytest.fixture(scope="module")
def users(demo) -> list:
    """user_ltv, as the warehouse holds it."""
    return demo.mart("user_ltv")
