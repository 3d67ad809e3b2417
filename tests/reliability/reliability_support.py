"""Helpers of the reliability suite: fresh warehouses, raw tables, dbt and publish runs.

Every test gets databases of its own (PostgreSQL: a database with a unique name,
dropped at the end; DuckDB: a file under pytest's tmp dir), so the suite runs beside
the other suites on the same server. dbt runs as a subprocess, as in production, with
its target and log paths under the test's tmp dir.

PostgreSQL is reached with PGHOST/PGPORT/PGUSER/PGPASSWORD (defaults 127.0.0.1, 5432,
postgres, empty), as in profiles.yml.example; the user must be able to create
databases and roles (a superuser in CI).
"""

import csv
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path
from typing import NamedTuple

import duckdb
import psycopg2
from psycopg2 import sql

PROJECT_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_DIR / "scripts"))
import demo_data  # noqa: E402  (lives in scripts/, not a package)
from demo_data import as_text  # noqa: E402
from ensure_postgres import connection_settings  # noqa: E402

PYTHON = sys.executable
DBT = str(Path(sys.executable).with_name("dbt"))
PUBLISH = str(PROJECT_DIR / "scripts" / "publish.py")
RAW_SCHEMA = "ltv_reliability_raw"
MART_SCHEMA = "ltv_reliability"
ANALYST_ROLE = "ltv_analyst"
AS_OF = date(2026, 3, 31)
OTHER_AS_OF = date(2026, 2, 28)

# The raw layout of the real shop: typed columns. Other layouts change some types.
TYPED_COLUMNS = demo_data.RAW_COLUMN_TYPES


class Dataset(NamedTuple):
    users: list
    orders: list


def generated_dataset(n_users: int = 150, seed: int = 5,
                      as_of: date = AS_OF) -> Dataset:
    """The demo generator's dirty data, small enough for many builds."""
    users, orders = demo_data.generate(n_users, seed, as_of)
    return Dataset(users, orders)


def layout(**changes) -> dict:
    """TYPED_COLUMNS with some types changed.

    layout(orders={"total_amount": "text"}): amounts stored as text.
    """
    columns = {table: dict(types) for table, types in TYPED_COLUMNS.items()}
    for table, types in changes.items():
        columns[table].update(types)
    return columns


def csv_stream(rows: list, columns: list) -> io.StringIO:
    """CSV for PostgreSQL's COPY: null as an unquoted \\N, so '' stays text."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    for row in rows:
        writer.writerow(
            ["\\N" if row.get(name) is None else as_text(row[name]) for name in columns]
        )
    stream.seek(0)
    return stream


def profiles_dir(work_dir: Path) -> Path:
    directory = work_dir / "profiles"
    directory.mkdir(exist_ok=True)
    shutil.copy(PROJECT_DIR / "profiles.yml.example", directory / "profiles.yml")
    return directory


# ---------------------------------------------------------------------- PostgreSQL


def analyst_session(database: "PostgresDatabase"):
    """A connection whose privileges are exactly the analyst role's."""
    connection = database.connect()
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("set role {}").format(sql.Identifier(ANALYST_ROLE)))
    connection.commit()
    return connection


def pg_connect(database: str, autocommit: bool = False, **options):
    connection = psycopg2.connect(dbname=database, **connection_settings(), **options)
    connection.autocommit = autocommit
    return connection


class PostgresDatabase:
    """A database of its own on the server, dropped by close()."""

    def __init__(self, purpose: str):
        self.name = f"ltv_rel_{purpose}_{uuid.uuid4().hex[:8]}"
        admin = pg_connect("postgres", autocommit=True)
        with admin.cursor() as cursor:
            cursor.execute(
                sql.SQL("create database {}").format(sql.Identifier(self.name))
            )
        admin.close()

    def close(self) -> None:
        admin = pg_connect("postgres", autocommit=True)
        with admin.cursor() as cursor:
            cursor.execute(
                sql.SQL("drop database if exists {} with (force)").format(
                    sql.Identifier(self.name)
                )
            )
        admin.close()

    def connect(self, **kwargs):
        return pg_connect(self.name, **kwargs)

    def execute(self, statement, params=None) -> None:
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute(statement, params)
        connection.close()

    def query(self, statement, params=None) -> list:
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                return cursor.fetchall()
        finally:
            connection.close()

    def load_raw(self, dataset: Dataset, columns: dict = TYPED_COLUMNS,
                 schema: str = RAW_SCHEMA) -> None:
        connection = self.connect()
        with connection, connection.cursor() as cursor:
            cursor.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
            for table, types in columns.items():
                names = list(types)
                cursor.execute(
                    sql.SQL("create table {}.{} ({})").format(
                        sql.Identifier(schema),
                        sql.Identifier(table),
                        sql.SQL(", ").join(
                            sql.SQL("{} {}").format(
                                sql.Identifier(name), sql.SQL(type_)
                            )
                            for name, type_ in types.items()
                        ),
                    )
                )
                rows = dataset.users if table == "users" else dataset.orders
                cursor.copy_expert(
                    f"copy {schema}.{table} ({', '.join(names)}) "
                    "from stdin with (format csv, null '\\N')",
                    csv_stream(rows, names),
                )
        connection.close()

    def env(self, schema: str = MART_SCHEMA) -> dict:
        """The environment that points profiles.yml at this database."""
        return {
            **os.environ,
            "PGDATABASE": self.name,
            "DBT_SCHEMA": schema,
            "DBT_TARGET": "postgres",
        }

    def relations(self, schema: str) -> dict:
        """Name -> relkind of the tables and views of a schema."""
        return dict(
            self.query(
                """
                select relname, relkind::text from pg_catalog.pg_class
                where relnamespace = (
                    select oid from pg_catalog.pg_namespace where nspname = %s
                )
                and relkind in ('r', 'v', 'm', 'p')
                """,
                [schema],
            )
        )

    def schemas(self) -> set:
        rows = self.query("select nspname from pg_catalog.pg_namespace")
        return {row[0] for row in rows}

    def fingerprint(self, schema: str, relations: list) -> dict:
        """Relation -> (row count, md5 of its sorted rows): equal means same content."""
        result = {}
        for relation in relations:
            result[relation] = self.query(
                sql.SQL(
                    "select count(*), md5(coalesce(string_agg(t::text, '|' "
                    "order by t::text), '')) from {}.{} as t"
                ).format(sql.Identifier(schema), sql.Identifier(relation))
            )[0]
        return result


def mart_as_of_dates(database: PostgresDatabase, schema: str, marts: list) -> set:
    dates = set()
    # clv_model_parameters carries the fit's as-of date (fitted_as_of_date) only.
    for mart in (mart for mart in marts if mart != "clv_model_parameters"):
        dates |= {
            row[0]
            for row in database.query(
                sql.SQL("select distinct as_of_date from {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(mart)
                )
            )
        }
    return dates


# --------------------------------------------------------------------------- DuckDB


class DuckDbDatabase:
    """A DuckDB file of its own under the test's tmp dir."""

    def __init__(self, work_dir: Path):
        self.path = work_dir / "warehouse.duckdb"

    def load_raw(self, dataset: Dataset, columns: dict = TYPED_COLUMNS,
                 schema: str = RAW_SCHEMA) -> None:
        with duckdb.connect(str(self.path)) as connection:
            connection.execute(f"create schema {schema}")
            for table, types in columns.items():
                names = list(types)
                definition = ", ".join(
                    f"{name} {type_}" for name, type_ in types.items()
                )
                connection.execute(f"create table {schema}.{table} ({definition})")
                rows = dataset.users if table == "users" else dataset.orders
                if not rows:
                    continue
                # Text in, the column types cast it: as COPY does on PostgreSQL.
                placeholders = ", ".join(
                    f"cast(? as {types[name]})" if "time zone" not in types[name]
                    and "timestamptz" not in types[name]
                    else "cast(cast(? as varchar) as timestamptz)"
                    for name in names
                )
                connection.executemany(
                    f"insert into {schema}.{table} values ({placeholders})",
                    [[as_text(row.get(name)) for name in names] for row in rows],
                )

    def env(self, schema: str = MART_SCHEMA) -> dict:
        return {
            **os.environ,
            "DBT_DUCKDB_PATH": str(self.path),
            "DBT_SCHEMA": schema,
            "DBT_TARGET": "duckdb",
        }

    def query(self, statement: str, params=None) -> list:
        with duckdb.connect(str(self.path), read_only=True) as connection:
            return connection.execute(statement, params or []).fetchall()


# ------------------------------------------------------------------------------ dbt


class DbtRun(NamedTuple):
    returncode: int
    output: str
    results: dict  # unique_id -> {"name", "status", "message"}
    target_dir: Path


def dbt_vars(as_of: date = AS_OF, source_schema: str = RAW_SCHEMA, **extra) -> str:
    return json.dumps(
        {
            "ltv_source_schema": source_schema,
            "ltv_as_of_date": as_of.isoformat(),
            **extra,
        }
    )


def path_args(work_dir: Path, name: str, target_dir: Path | None = None) -> list:
    return [
        "--profiles-dir", str(profiles_dir(work_dir)),
        "--target-path", str(target_dir or work_dir / name / "target"),
        "--log-path", str(work_dir / name / "logs"),
    ]


def shared_target_dir(work_dir: Path, vars_json: str) -> Path:
    """One target dir per set of vars: later builds reuse dbt's partial parse (a
    change of vars reparses everything). Only for builds that run one at a time."""
    return work_dir / f"target_{hashlib.md5(vars_json.encode()).hexdigest()[:10]}"


def read_results(target_dir: Path) -> dict:
    path = target_dir / "run_results.json"
    if not path.exists():
        return {}
    return {
        result["unique_id"]: {
            "name": result["unique_id"].split(".")[2],
            "status": result["status"],
            "message": result.get("message") or "",
        }
        for result in json.loads(path.read_text())["results"]
    }


def run_dbt(command: list, env: dict, work_dir: Path, name: str,
            timeout: float = 300) -> DbtRun:
    target_dir = work_dir / name / "target"
    completed = subprocess.run(
        [DBT, *command, "--project-dir", str(PROJECT_DIR),
         *path_args(work_dir, name, target_dir)],
        env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )
    return DbtRun(
        completed.returncode,
        completed.stdout + completed.stderr,
        read_results(target_dir),
        target_dir,
    )


def publish_command(work_dir: Path, name: str, as_of: date,
                    source_schema: str = RAW_SCHEMA) -> tuple:
    """The publish.py command line, and the target dir its dbt writes to."""
    vars_json = dbt_vars(as_of, source_schema)
    target_dir = shared_target_dir(work_dir, vars_json)
    command = [
        PYTHON, PUBLISH, "--vars", vars_json, *path_args(work_dir, name, target_dir),
    ]
    return command, target_dir


def run_publish(database: PostgresDatabase, work_dir: Path, name: str, as_of: date,
                schema: str = MART_SCHEMA, source_schema: str = RAW_SCHEMA,
                timeout: float = 300) -> DbtRun:
    command, target_dir = publish_command(work_dir, name, as_of, source_schema)
    (target_dir / "run_results.json").unlink(missing_ok=True)
    completed = subprocess.run(
        command, env=database.env(schema), capture_output=True, text=True,
        timeout=timeout, check=False,
    )
    return DbtRun(
        completed.returncode,
        completed.stdout + completed.stderr,
        read_results(target_dir),
        target_dir,
    )


def start_publish(database: PostgresDatabase, work_dir: Path, name: str, as_of: date,
                  schema: str = MART_SCHEMA) -> subprocess.Popen:
    """publish.py in a process group of its own (with its dbt), output as lines."""
    command, _ = publish_command(work_dir, name, as_of)
    return subprocess.Popen(
        command,
        env={**database.env(schema), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
        start_new_session=True,
    )


def kill_process_group(process: subprocess.Popen) -> None:
    """SIGKILL publish.py and its dbt: no cleanup code of theirs runs."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)
    if process.stdout:
        process.stdout.close()


def mart_names(run: DbtRun) -> list:
    """The models of models/marts/, from the manifest of a run."""
    manifest = json.loads((run.target_dir / "manifest.json").read_text())
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["fqn"][1] == "marts"
        and node["config"].get("enabled", True)
    )


def failed(results: dict) -> dict:
    """Node name -> message of the nodes that errored or failed."""
    return {
        result["name"]: result["message"]
        for result in results.values()
        if result["status"] in ("error", "fail")
    }
