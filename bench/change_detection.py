"""What the cheapest exact refresh would have to pay before it recomputed anything.

A refresh that trusts no stamp must compare every raw order row with what the last
build saw. The cheapest such comparison is one aggregate over the raw orders: a
hash of every row, summed per user (the users whose rows changed are then the
ones to recompute). This times that aggregate on the benchmark's raw tables, after
`run_benchmark.py` has loaded them, and sets it beside the run's (a):

    .venv/bin/python bench/change_detection.py --work-dir /tmp/ltv_bench \\
        --results bench/results/users_1000000.json

The aggregate alone is the floor of an exact refresh's extra cost; the whole-table
floor the benchmark prints (the marts and what they read, rebuilt every run) comes
on top of it.
"""

import argparse
import json
import time
from pathlib import Path

import sys

import duckdb
import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from ensure_postgres import connection_settings  # noqa: E402

RAW_ORDERS = "bench_raw.orders"
COLUMNS = "order_id, created_at, updated_at, status, total_amount, currency"
QUERIES = {
    "duckdb": f"select user_id, count(*), sum(hash({COLUMNS})) "
              f"from {RAW_ORDERS} group by user_id",
    "postgres": "select user_id, count(*), sum(hashtextextended("
                f"concat_ws('|', {COLUMNS}), 0)::numeric) "
                f"from {RAW_ORDERS} group by user_id",
}  # fmt: skip


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return round(time.perf_counter() - started, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/ltv_bench"))
    parser.add_argument("--pg-database", default="ltv_bench")
    parser.add_argument("--results", type=Path, required=True)
    args = parser.parse_args()
    report = json.loads(args.results.read_text())

    with duckdb.connect(str(args.work_dir / "duckdb" / "bench.duckdb")) as connection:
        seconds = {"duckdb": timed(lambda: connection.execute(
            f"create temp table fingerprints as {QUERIES['duckdb']}"))}
    connection = psycopg2.connect(dbname=args.pg_database, **connection_settings())
    with connection, connection.cursor() as cursor:
        cursor.execute("set local work_mem = '32MB'")
        seconds["postgres"] = timed(lambda: cursor.execute(
            f"create temp table fingerprints as {QUERIES['postgres']}"))
    connection.close()

    for engine, spent in seconds.items():
        full = report["results"][engine]["a_dbt_run"]["elapsed_time_s"]
        print(f"{engine}: per-user hash of the raw orders {spent} s, "
              f"{spent / full:.2f} of (a) ({full} s)")


if __name__ == "__main__":
    main()
