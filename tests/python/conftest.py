"""Fixtures that build the dbt project once per engine on a dirty generated dataset.

Modelled on dbt's own adapter tests (dbt/tests/fixtures/project.py): a class-scoped,
engine-parametrized fixture loads the raw tables, runs `dbt build` in-process through
`dbtRunner` and hands the built marts to the tests, which compare them with the
independent Python reference (reference.py) computed from the same raw rows. The
warehouses and dbt runs are the shared harness's (tests/harness).

Postgres: the server is reached with PGHOST/PGPORT/PGUSER/PGPASSWORD (defaults
127.0.0.1/5432/postgres/empty, as in profiles.yml.example); the fixture drops and
recreates the database `ltv_pytest` on it. DuckDB: a fresh file under pytest's tmp dir.
"""

import csv
import os
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from harness import PROJECT_DIR
from harness.datasets import Dataset, generated_dataset
from harness.dbt_runs import build_in_process, dbt_vars, profiles_dir  # noqa: F401
from harness.warehouses import DuckDbWarehouse, PostgresWarehouse
from reference import compute_marts

ENGINES = ["duckdb", "postgres"]
# Other datasets on demand, e.g. LTV_TEST_USERS=50000 LTV_TEST_SEED=11
# LTV_TEST_AS_OF=2024-02-29: the same comparisons over more and other random users.
# The checks that the dataset holds every kind of dirt and case are written for the
# default one: another may lack a case (no signup after a late as-of date, say).
N_USERS = int(os.environ.get("LTV_TEST_USERS", 6000))
SEED = int(os.environ.get("LTV_TEST_SEED", 7))
# A month end by default, where horizon date math is sharpest.
AS_OF_DATE = date.fromisoformat(os.environ.get("LTV_TEST_AS_OF", "2026-03-31"))
RAW_SCHEMA = "ltv_pytest_raw"
MART_SCHEMA = "ltv_pytest"
# A suffix keeps concurrent runs on one server apart (e.g. LTV_TEST_DB_SUFFIX=_ci).
POSTGRES_DATABASE = "ltv_pytest" + os.environ.get("LTV_TEST_DB_SUFFIX", "")
MARTS = (
    "user_ltv",
    "ltv_summary",
    "ltv_segments",
    "ltv_distribution",
    "ltv_cohorts",
    "ltv_by_channel",
    "user_rfm",
    "order_audit",
)
# Order dates of the users without a signup timestamp that the dataset adds, one user
# per date (see with_users_without_signup).
ORDERS_OF_USERS_WITHOUT_SIGNUP = (date(2025, 6, 1), date(2025, 6, 2), AS_OF_DATE)


# ----------------------------------------------------------------- data and reference


def _read_seed(path: Path) -> list:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def read_fx_rates(demo: bool = False) -> list:
    """The rates the project's fx_rates model holds, typed as the reference expects.

    A real source (the tests' own raw schema): the shop's own rates (seed
    own_fx_rates) over the ECB's (seed ecb_fx_rates). The demo source: the demo's
    synthetic rates between the two."""
    layers = [PROJECT_DIR / "seeds" / "own_fx_rates.csv"]
    if demo:
        layers.append(PROJECT_DIR / "seeds" / "demo" / "demo_fx_rates.csv")
    layers.append(PROJECT_DIR / "seeds" / "ecb_fx_rates.csv")
    rates = {}
    for layer in layers:
        for row in _read_seed(layer):
            key = (row["currency"].strip().upper(), date.fromisoformat(row["rate_month"]))
            rates.setdefault(key, Decimal(row["usd_per_unit"]))
    return [
        {"currency": currency, "rate_month": month, "usd_per_unit": rate}
        for (currency, month), rate in rates.items()
    ]


def read_channel_cac(demo: bool = False) -> list:
    """The CACs of the project's channel_cac model, typed as the reference expects:
    the shop's own (seed own_channel_cac; empty out of the box), and for the demo
    source the demo's where the shop gives none."""
    layers = [PROJECT_DIR / "seeds" / "own_channel_cac.csv"]
    if demo:
        layers.append(PROJECT_DIR / "seeds" / "demo" / "demo_channel_cac.csv")
    costs = {}
    for layer in layers:
        for row in _read_seed(layer):
            costs.setdefault(
                row["acquisition_channel"].strip().lower(), Decimal(row["cac"])
            )
    return [{"acquisition_channel": key, "cac": cac} for key, cac in costs.items()]


def with_users_without_signup(dataset: Dataset) -> Dataset:
    """The dataset plus users whose created_at is null, each with one paid USD order.

    The generator never leaves a signup timestamp out, so without these order_audit
    would never show `user_without_signup_date`. One order is dated on the as-of date,
    so the order of the checks shows (its reason is still user_without_signup_date).
    The users' ids are above every user id of users and orders (no unknown-user order
    becomes theirs), their order ids above every order id; they appear in no mart but
    order_audit.
    """
    first_user_id = 1 + max(
        [user["user_id"] for user in dataset.users]
        + [order["user_id"] for order in dataset.orders if order["user_id"] is not None]
    )
    first_order_id = 1 + max(order["order_id"] for order in dataset.orders)
    users, orders = [], []
    for offset, order_date in enumerate(ORDERS_OF_USERS_WITHOUT_SIGNUP):
        user_id = first_user_id + offset
        created_at = datetime.combine(order_date, time(12))
        users.append(
            {"user_id": user_id, "created_at": None, "acquisition_channel": "organic"}
        )
        orders.append(
            {
                "order_id": first_order_id + offset,
                "user_id": user_id,
                "created_at": created_at,
                "updated_at": created_at,
                "status": "paid",
                "total_amount": Decimal("42.00"),
                "currency": "USD",
            }
        )
    return Dataset([*dataset.users, *users], [*dataset.orders, *orders])


@pytest.fixture(scope="session")
def dataset() -> Dataset:
    return with_users_without_signup(generated_dataset(N_USERS, SEED, AS_OF_DATE))


@pytest.fixture(scope="session")
def reference_marts(dataset) -> dict:
    return reference_marts_for(dataset)


def reference_marts_for(dataset: Dataset, **parameters) -> dict:
    """The reference's marts of the dataset as of AS_OF_DATE, with the seeds' rates
    and CACs; `parameters` are compute_marts' keyword arguments (the vars)."""
    return compute_marts(
        dataset.users,
        dataset.orders,
        read_fx_rates(),
        AS_OF_DATE,
        channel_cac=read_channel_cac(),
        **parameters,
    )


# ------------------------------------------------------------------------ warehouses


def make_warehouse(engine: str, work_dir: Path, database: str = POSTGRES_DATABASE):
    """A warehouse of the engine with an empty database (PostgreSQL: `database`,
    dropped and created again; DuckDB: a file in work_dir)."""
    if engine == "duckdb":
        warehouse = DuckDbWarehouse(work_dir, MART_SCHEMA, RAW_SCHEMA)
    else:
        warehouse = PostgresWarehouse(database, MART_SCHEMA, RAW_SCHEMA)
    warehouse.create_database()
    return warehouse


# ------------------------------------------------------------------------------- dbt


@pytest.fixture(scope="class", params=ENGINES)
def engine(request) -> str:
    return request.param


@pytest.fixture(scope="class")
def built_marts(engine, dataset, profiles_dir, tmp_path_factory) -> dict:
    """Load the raw tables, build the project once, and read back every mart."""
    return build_and_read_marts(engine, dataset, profiles_dir, tmp_path_factory)


def build_and_read_marts(
    engine, dataset, profiles_dir, tmp_path_factory, other_vars=None
) -> dict:
    """`dbt build` over the dataset's raw tables (plus `other_vars`); every mart."""
    work_dir = tmp_path_factory.mktemp(engine)
    warehouse = make_warehouse(engine, work_dir)
    warehouse.load_raw(dataset)
    build_in_process(
        engine,
        dbt_vars(AS_OF_DATE, RAW_SCHEMA, **(other_vars or {})),
        work_dir,
        profiles_dir,
        warehouse.dbt_env(),
    )
    return {mart: warehouse.read_table(MART_SCHEMA, mart) for mart in MARTS}
