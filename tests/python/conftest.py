"""Fixtures that build the dbt project once per engine on a dirty generated dataset.

Modelled on dbt's own adapter tests (dbt/tests/fixtures/project.py): a class-scoped,
engine-parametrized fixture loads the raw tables, runs `dbt build` in-process through
`dbtRunner` and hands the built marts to the tests, which compare them with the
independent Python reference (reference.py) computed from the same raw rows.

Postgres: the server is reached with PGHOST/PGPORT/PGUSER/PGPASSWORD (defaults
127.0.0.1/5432/postgres/empty, as in profiles.yml.example); the fixture drops and
recreates the database `ltv_pytest` on it. DuckDB: a fresh file under pytest's tmp dir.
"""

import csv
import io
import json
import os
import shutil
import sys
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import duckdb
import pandas as pd
import psycopg2
from psycopg2 import sql
import pytest

from dbt_invoke import dbt_failures, run_dbt  # noqa: F401  (re-exported)
from reference import compute_marts

PROJECT_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_DIR / "scripts"))
import demo_data  # noqa: E402  (lives in scripts/, not a package)
from demo_data import as_text  # noqa: E402
from ensure_postgres import connection_settings  # noqa: E402

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

RAW_TABLES = {  # table -> [(column, type)], in load order
    table: list(types.items()) for table, types in demo_data.RAW_COLUMN_TYPES.items()
}


class Dataset(NamedTuple):
    users: list
    orders: list

    def rows(self, table: str) -> list:
        return self.users if table == "users" else self.orders


class Table(NamedTuple):
    """A mart as read back from the warehouse."""

    columns: list
    rows: list  # of dicts


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
    users, orders = demo_data.generate(N_USERS, SEED, AS_OF_DATE)
    return with_users_without_signup(Dataset(users, orders))


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


def text_rows(rows: list, columns: list) -> list:
    return [[as_text(row[column]) for column in columns] for row in rows]


def create_table_sql(table: str) -> str:
    columns = ", ".join(f"{name} {type_}" for name, type_ in RAW_TABLES[table])
    return f"create table {RAW_SCHEMA}.{table} ({columns})"


class DuckDbWarehouse:
    def __init__(self, work_dir: Path, schema: str = MART_SCHEMA):
        self.path = work_dir / "pytest.duckdb"
        self.schema = schema

    def dbt_env(self) -> dict:
        return {"DBT_DUCKDB_PATH": str(self.path), "DBT_SCHEMA": self.schema}

    def load_raw(self, dataset: Dataset) -> None:
        with duckdb.connect(str(self.path)) as connection:
            connection.execute(f"create schema {RAW_SCHEMA}")
            for table, columns in RAW_TABLES.items():
                names = [name for name, _ in columns]
                incoming = pd.DataFrame(
                    text_rows(dataset.rows(table), names), columns=names, dtype=object
                )
                connection.execute(create_table_sql(table))
                connection.register("incoming", incoming)
                connection.execute(
                    f"insert into {RAW_SCHEMA}.{table} select * from incoming"
                )
                connection.unregister("incoming")

    def execute(self, *statements: str) -> None:
        with duckdb.connect(str(self.path)) as connection:
            for statement in statements:
                connection.execute(statement)

    def query(self, sql: str) -> Table:
        with duckdb.connect(str(self.path)) as connection:
            cursor = connection.execute(sql)
            return rows_as_table(cursor.description, cursor.fetchall())

    def read_table(self, schema: str, name: str) -> Table:
        return self.query(f"select * from {schema}.{name}")


class PostgresWarehouse:
    """A database of its own on the server (the suites use one each), dropped and
    created again by load_raw or recreate_database."""

    def __init__(self, database: str = POSTGRES_DATABASE, schema: str = MART_SCHEMA):
        self.database = database
        self.schema = schema
        self.server = connection_settings()

    def dbt_env(self) -> dict:
        return {"PGDATABASE": self.database, "DBT_SCHEMA": self.schema}

    def connect(self, database: str):
        return psycopg2.connect(dbname=database, **self.server)

    def recreate_database(self) -> None:
        connection = self.connect("postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            # Quoted: a suffix in capitals (LTV_TEST_DB_SUFFIX) must keep its case.
            database = sql.Identifier(self.database)
            cursor.execute(
                sql.SQL("drop database if exists {} with (force)").format(database)
            )
            cursor.execute(sql.SQL("create database {}").format(database))
        connection.close()

    def load_raw(self, dataset: Dataset) -> None:
        self.recreate_database()
        connection = self.connect(self.database)
        with connection, connection.cursor() as cursor:
            cursor.execute(f"create schema {RAW_SCHEMA}")
            for table, columns in RAW_TABLES.items():
                names = [name for name, _ in columns]
                cursor.execute(create_table_sql(table))
                cursor.copy_expert(
                    f"copy {RAW_SCHEMA}.{table} ({', '.join(names)}) "
                    "from stdin with (format csv, null '\\N')",
                    csv_stream(text_rows(dataset.rows(table), names)),
                )
        connection.close()

    def execute(self, *statements: str) -> None:
        connection = self.connect(self.database)
        with connection, connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        connection.close()

    def query(self, sql: str) -> Table:
        connection = self.connect(self.database)
        with connection, connection.cursor() as cursor:
            cursor.execute(sql)
            table = rows_as_table(cursor.description, cursor.fetchall())
        connection.close()
        return table

    def read_table(self, schema: str, name: str) -> Table:
        return self.query(f"select * from {schema}.{name}")


def csv_stream(rows: list) -> io.StringIO:
    """CSV for COPY: null as an unquoted \\N, so '' and ' Paid' stay text."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    for row in rows:
        writer.writerow(["\\N" if value is None else value for value in row])
    stream.seek(0)
    return stream


def rows_as_table(description, records) -> Table:
    columns = [column[0] for column in description]
    return Table(columns, [dict(zip(columns, record)) for record in records])


def make_warehouse(engine: str, work_dir: Path):
    return DuckDbWarehouse(work_dir) if engine == "duckdb" else PostgresWarehouse()


# ------------------------------------------------------------------------------- dbt


@pytest.fixture(scope="session")
def profiles_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("profiles")
    shutil.copy(PROJECT_DIR / "profiles.yml.example", directory / "profiles.yml")
    return directory


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
    dbt_vars = json.dumps(
        {
            "ltv_source_schema": RAW_SCHEMA,
            "ltv_as_of_date": AS_OF_DATE.isoformat(),
            **(other_vars or {}),
        }
    )
    with pytest.MonkeyPatch.context() as env:
        for name, value in warehouse.dbt_env().items():
            env.setenv(name, value)
        run_dbt(
            [
                "build",
                "--project-dir", str(PROJECT_DIR),
                "--profiles-dir", str(profiles_dir),
                "--target", engine,
                "--vars", dbt_vars,
                # Artifacts and logs stay out of the project's target/ and logs/.
                "--target-path", str(work_dir / "target"),
                "--log-path", str(work_dir / "logs"),
            ]
        )
    return {mart: warehouse.read_table(MART_SCHEMA, mart) for mart in MARTS}
