"""What only the reliability suite needs: its schemas and dates, databases of its
own, the small dataset, the analyst role, and `dbt build` runs.

Every test gets databases of its own (PostgreSQL: a database with a unique name,
dropped at the end; DuckDB: a file under pytest's tmp dir), so the suite runs beside
the other suites on the same server. dbt runs as a subprocess, as in production, with
its target and log paths under the test's tmp dir. The PostgreSQL user must be able
to create databases and roles (a superuser in CI).
"""

import hashlib
import os
import signal
import subprocess
import uuid
from datetime import date
from pathlib import Path

from psycopg2 import sql

from harness import PROJECT_DIR, datasets
from harness.dbt_runs import DBT, DbtRun, dbt_vars, path_args, run_process
from harness.warehouses import DuckDbWarehouse, PostgresWarehouse

RAW_SCHEMA = "ltv_reliability_raw"
MART_SCHEMA = "ltv_reliability"
ANALYST_ROLE = "ltv_analyst"
AS_OF = date(2026, 3, 31)
OTHER_AS_OF = date(2026, 2, 28)


def generated_dataset(n_users: int = 150, seed: int = 5,
                      as_of: date = AS_OF) -> datasets.Dataset:
    """The demo generator's dirty data, small enough for many builds."""
    return datasets.generated_dataset(n_users, seed, as_of)


class PostgresDatabase(PostgresWarehouse):
    """A new database of its own on the server, named uniquely; drop it at the end."""

    def __init__(self, purpose: str):
        name = f"ltv_rel_{purpose}_{uuid.uuid4().hex[:8]}"
        super().__init__(name, MART_SCHEMA, RAW_SCHEMA)
        self.create_database()


class DuckDbDatabase(DuckDbWarehouse):
    """A DuckDB file of its own under the test's tmp dir."""

    def __init__(self, work_dir: Path):
        super().__init__(work_dir, MART_SCHEMA, RAW_SCHEMA)


def analyst_session(database: PostgresDatabase):
    """A connection whose privileges are exactly the analyst role's."""
    connection = database.connect()
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("set role {}").format(sql.Identifier(ANALYST_ROLE)))
    connection.commit()
    return connection


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


# ---------------------------------------------------------------------------- build


def shared_target_dir(work_dir: Path, vars_json: str) -> Path:
    """One target dir per set of vars: later builds reuse dbt's partial parse (a
    change of vars reparses everything). Only for builds that run one at a time."""
    return work_dir / f"target_{hashlib.md5(vars_json.encode()).hexdigest()[:10]}"


def build_command(work_dir: Path, name: str, as_of: date,
                  source_schema: str = RAW_SCHEMA) -> tuple:
    """The `dbt build` command line, as the README writes it, and its target dir."""
    vars_json = dbt_vars(as_of, source_schema)
    target_dir = shared_target_dir(work_dir, vars_json)
    command = [
        DBT, "build", "--project-dir", str(PROJECT_DIR), "--vars", vars_json,
        *path_args(work_dir, name, target_dir),
    ]
    return command, target_dir


def run_build(database: PostgresDatabase, work_dir: Path, name: str, as_of: date,
              schema: str = MART_SCHEMA, source_schema: str = RAW_SCHEMA,
              timeout: float = 300) -> DbtRun:
    command, target_dir = build_command(work_dir, name, as_of, source_schema)
    (target_dir / "run_results.json").unlink(missing_ok=True)
    return run_process(command, database.env(schema), target_dir, timeout)


def start_build(database: PostgresDatabase, work_dir: Path, name: str, as_of: date,
                schema: str = MART_SCHEMA) -> subprocess.Popen:
    """`dbt build` in a process group of its own, output as lines."""
    command, _ = build_command(work_dir, name, as_of)
    return subprocess.Popen(
        command,
        env={**database.env(schema), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
        start_new_session=True,
    )


def kill_process_group(process: subprocess.Popen) -> None:
    """SIGKILL dbt: no cleanup code of its runs."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)
    if process.stdout:
        process.stdout.close()
