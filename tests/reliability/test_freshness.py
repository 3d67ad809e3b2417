"""Source freshness: `dbt source freshness` against the demo data, made meaningful.

The sources declare their `loaded_at_field` and thresholds (warn after 1 day, error
after 3: models/staging/shop/_shop__sources.yml). dbt measures freshness against the
clock, not against the as-of date, and the demo data is a fixed history (its last
timestamps lie at the end of 2026), so checking it as it is would pass or fail
depending on the day. This test loads three copies of the demo seeds, each with every
timestamp of a table shifted by one amount so that its newest loaded_at lands:
- an hour ago: freshness passes;
- two days ago: it warns (and `dbt source freshness` still exits 0);
- ten days ago: it errors (exit status 1), as a stalled load must.
"""

import csv
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from harness import PROJECT_DIR
from harness.datasets import Dataset
from harness.dbt_runs import run_dbt
from reliability_support import PostgresDatabase

DEMO_DIR = PROJECT_DIR / "seeds" / "demo"
AGES = {
    "pass": timedelta(hours=1),
    "warn": timedelta(days=2),
    "error": timedelta(days=10),
}


def read_demo(name: str) -> list:
    with open(DEMO_DIR / f"{name}.csv", newline="") as file:
        return [
            {key: (value if value != "" else None) for key, value in row.items()}
            for row in csv.DictReader(file)
        ]


def parse(value):
    return None if value is None else datetime.fromisoformat(value)


def shifted(rows: list, columns: list, loaded_at, age: timedelta) -> list:
    """The rows with every timestamp moved so that max(loaded_at) is now - age (UTC)."""
    newest = max(filter(None, (loaded_at(row) for row in rows)))
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    delta = (now - age) - newest
    return [
        {
            **row,
            **{
                column: (parse(row[column]) + delta if row[column] else None)
                for column in columns
            },
        }
        for row in rows
    ]


def demo_aged(age: timedelta) -> Dataset:
    users = read_demo("demo_users")
    orders = read_demo("demo_orders")
    return Dataset(
        shifted(users, ["created_at"], lambda row: parse(row["created_at"]), age),
        shifted(
            orders,
            ["created_at", "updated_at"],
            lambda row: parse(row["updated_at"] or row["created_at"]),
            age,
        ),
    )


@pytest.fixture()
def database():
    database = PostgresDatabase("freshness")
    yield database
    database.drop_database()


def freshness(database: PostgresDatabase, work_dir, expected: str) -> tuple:
    schema = f"demo_{expected}"
    run = run_dbt(
        ["source", "freshness", "--select", "source:shop",
         "--vars", json.dumps({"ltv_source_schema": schema})],
        database.env(), work_dir, f"freshness_{expected}",
    )
    sources = json.loads(
        (work_dir / f"freshness_{expected}" / "target" / "sources.json").read_text()
    )
    statuses = {
        result["unique_id"].split(".")[-1]: result["status"]
        for result in sources["results"]
    }
    return run, statuses


def test_freshness_passes_warns_and_errors_with_the_age_of_the_data(database, tmp_path):
    for expected, age in AGES.items():
        database.load_raw(demo_aged(age), schema=f"demo_{expected}")

    with ThreadPoolExecutor(len(AGES)) as pool:
        runs = pool.map(lambda expected: freshness(database, tmp_path, expected), AGES)
        outcomes = dict(zip(AGES, runs))

    for expected, (run, statuses) in outcomes.items():
        assert statuses == {"users": expected, "orders": expected}, run.output[-3000:]
        assert run.returncode == (1 if expected == "error" else 0), run.output[-3000:]
