"""Run a list of SQL statements (and COPY loads) on one engine, in its own process.

run_benchmark.py starts this as a child process so that the child's peak RSS and CPU
time can be measured on their own. Usage:

    exec_sql.py JOB.json

JOB.json: {"engine": "duckdb" | "postgres", "duckdb_path": "...", "dbname": "...",
"steps": [{"name": "...", "sql": "..."} | {"name": "...", "copy_table": "...",
"copy_file": "..."}]}. PostgreSQL is reached with the PG* environment variables.
Every step is timed (perf_counter); the last line of stdout is a JSON list of
{"name", "seconds", "rows"}. Any error exits non-zero.
"""

import json
import sys
import time
from pathlib import Path


def connect(job: dict):
    if job["engine"] == "duckdb":
        import duckdb

        return duckdb.connect(job["duckdb_path"])
    import psycopg2

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from ensure_postgres import connection_settings

    connection = psycopg2.connect(dbname=job["dbname"], **connection_settings())
    connection.autocommit = True
    return connection


def run_step(job: dict, connection, step: dict) -> dict:
    start = time.perf_counter()
    rows = None
    if "copy_table" in step:
        if job["engine"] == "duckdb":
            raise ValueError("copy_table is for PostgreSQL; DuckDB uses read_csv in sql")
        with connection.cursor() as cursor, open(step["copy_file"], encoding="utf-8") as f:
            cursor.copy_expert(
                f"copy {step['copy_table']} from stdin with (format csv, header true)",
                f,
                size=1 << 20,
            )
            rows = cursor.rowcount
    elif job["engine"] == "duckdb":
        result = connection.execute(step["sql"])
        if step.get("fetch"):
            rows = result.fetchall()
    else:
        with connection.cursor() as cursor:
            cursor.execute(step["sql"])
            rows = cursor.fetchall() if step.get("fetch") else cursor.rowcount
    return {
        "name": step["name"],
        "seconds": time.perf_counter() - start,
        "rows": rows if not isinstance(rows, list) else [list(map(str, r)) for r in rows],
    }


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        job = json.load(f)
    connection = connect(job)
    results = [run_step(job, connection, step) for step in job["steps"]]
    connection.close()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
