"""What every part of the benchmark shares: paths, schemas, logging, PostgreSQL helpers."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import psycopg2


BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
sys.path.insert(0, str(PROJECT_DIR / "scripts"))
import demo_data  # noqa: E402  (lives in scripts/, not a package)
from ensure_postgres import connection_settings  # noqa: E402

DBT = PROJECT_DIR / ".venv" / "bin" / "dbt"

PYTHON = sys.executable

# lifetimes, the reference library of the CLV fit, in its own venv (make lifetimes-venv).
LIFETIMES_PYTHON = PROJECT_DIR / ".venv-lifetimes" / "bin" / "python"
LIFETIMES_VERSION = "0.11.3"

RAW_SCHEMA = "bench_raw"

DBT_SCHEMA = "bench_ltv"

ENGINES = ("duckdb", "postgres")
RAW_COLUMNS = {  # the raw tables typed as the tests create them
    table: list(types.items()) for table, types in demo_data.RAW_COLUMN_TYPES.items()
}


LTV_COLUMNS = [
    "revenue_3m", "revenue_6m", "revenue_12m", "revenue_lifetime",
    "orders_3m", "orders_6m", "orders_12m", "orders_lifetime",
]  # fmt: skip


def log(message: str) -> None:
    stamp = datetime.datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", flush=True)


def pg_connect(dbname: str):
    connection = psycopg2.connect(dbname=dbname, **connection_settings())
    connection.autocommit = True
    return connection


def pg_query(dbname: str, sql: str, params=None) -> list:
    connection = pg_connect(dbname)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


def pg_terminate(dbname: str) -> None:
    """Stop the server-side work of a step that timed out."""
    pg_query(
        "postgres",
        "select pg_terminate_backend(pid) from pg_stat_activity "
        "where datname = %s and pid <> pg_backend_pid()",
        (dbname,),
    )


def pg_temp_stats(dbname: str) -> tuple[int, int]:
    rows = pg_query(
        "postgres",
        "select temp_files, temp_bytes from pg_stat_database where datname = %s",
        (dbname,),
    )
    return (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)

