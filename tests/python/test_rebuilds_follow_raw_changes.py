"""Every `dbt build` equals the spec on the raw rows as they are at that moment,
whatever happened to them since the last build.

Per engine, a generated dataset is built, then changed in rounds the way raw data
changes in a shop: orders appended; new versions of old orders that land late with
old stamps (refunds, late payments, an order moved to another user); orders deleted;
signups corrected in place; users deleted; user rows that land late with an old
signup; and the as-of date moving forward and back. After each round a plain
`dbt build` (no --full-refresh) runs on the same warehouse, over the marts of the
previous round, and every column of every mart must equal the Python reference
computed from the raw rows of that moment. The changes are random, seeded per
round (LTV_TEST_SEED).
"""

import os
import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import duckdb
import pytest
from conftest import RAW_SCHEMA, SEED, read_channel_cac, read_fx_rates
from harness.datasets import RAW_COLUMNS, Dataset, generated_dataset
from harness.dbt_runs import build_in_process, dbt_vars
from harness.warehouses import DuckDbWarehouse, PostgresWarehouse, csv_stream, text_rows
from reference import compute_marts
from test_marts_match_reference import MART_KEYS, column_differences

FIRST_AS_OF = date(2026, 3, 31)
# Forward, back past the first, forward again.
ROUND_AS_OF = (date(2026, 5, 15), date(2026, 1, 15), date(2026, 4, 30))
MART_SCHEMA = "ltv_rebuilds"
DATABASE = "ltv_pytest_rebuilds" + os.environ.get("LTV_TEST_DB_SUFFIX", "")
USERS = 2000


def replace_raw(warehouse, dataset: Dataset) -> None:
    """The raw tables hold exactly the dataset's rows; the marts stay."""
    for table, types in RAW_COLUMNS.items():
        names = list(types)
        rows = text_rows(dataset.rows(table), names)
        if isinstance(warehouse, DuckDbWarehouse):
            with duckdb.connect(str(warehouse.path)) as connection:
                connection.execute(f"delete from {RAW_SCHEMA}.{table}")
                connection.executemany(
                    f"insert into {RAW_SCHEMA}.{table} ({', '.join(names)}) "
                    f"values ({', '.join('?' for _ in names)})",
                    rows,
                )
        else:
            connection = warehouse.connect(warehouse.database)
            with connection, connection.cursor() as cursor:
                cursor.execute(f"delete from {RAW_SCHEMA}.{table}")
                cursor.copy_expert(
                    f"copy {RAW_SCHEMA}.{table} ({', '.join(names)}) "
                    "from stdin with (format csv, null '\\N')",
                    csv_stream(rows),
                )
            connection.close()


def changed(dataset: Dataset, rng: random.Random, as_of: date) -> tuple:
    """The dataset after one round of changes, and what the round did."""
    users = [dict(user) for user in dataset.users]
    orders = [dict(order) for order in dataset.orders]
    signed_up = [user for user in users if user["created_at"] is not None]
    next_order_id = 1 + max(order["order_id"] for order in orders)
    next_user_id = 1 + max(user["user_id"] for user in users)
    done = {}

    # New orders, dated up to the new as-of date, stamped when they land.
    appended = []
    for user in rng.sample(signed_up, len(signed_up) // 40):
        created = datetime.combine(as_of, datetime.min.time()) - timedelta(
            days=rng.randint(0, 60), hours=rng.randint(1, 20)
        )
        appended.append({
            "order_id": next_order_id + len(appended), "user_id": user["user_id"],
            "created_at": created, "updated_at": None,
            "status": rng.choice(["paid", " Shipped", "pending", "completed"]),
            "total_amount": Decimal(rng.randint(0, 40000)) / 100,
            "currency": rng.choice([None, "USD", "eur"]),
        })
    orders += appended
    done["appended orders"] = len(appended)

    # New versions stamped an hour after the old one: older than any watermark.
    late = []
    for order in rng.sample(orders, len(orders) // 60):
        stamp = order["updated_at"] or order["created_at"]
        if stamp is None:
            continue
        status = (order["status"] or "").strip().lower()
        new_status = {"paid": "refunded", "pending": "paid"}.get(status, "completed")
        late.append({**order, "status": new_status,
                     "updated_at": stamp + timedelta(hours=1)})
    mover = rng.choice(orders)
    if mover["created_at"] is not None:
        late.append({**mover, "user_id": rng.choice(signed_up)["user_id"],
                     "status": "paid",
                     "updated_at": (mover["updated_at"] or mover["created_at"])
                     + timedelta(days=1)})
    orders += late
    done["late versions"] = len(late)

    # Orders deleted from the raw table, every version of them.
    deleted = {order["order_id"] for order in rng.sample(orders, len(orders) // 100)}
    orders = [order for order in orders if order["order_id"] not in deleted]
    done["deleted orders"] = len(deleted)

    # Signups corrected in place, users deleted, user rows that land late.
    for user in rng.sample(signed_up, len(signed_up) // 100):
        user["created_at"] += timedelta(days=rng.randint(-40, 40))
    gone = {user["user_id"] for user in rng.sample(signed_up, len(signed_up) // 200)}
    users = [user for user in users if user["user_id"] not in gone]
    landed = [
        {"user_id": next_user_id + offset,
         "created_at": datetime(2025, 6, 1, 12) + timedelta(days=offset),
         "acquisition_channel": rng.choice(["Organic ", "paid_search", None])}
        for offset in range(10)
    ]
    users += landed
    for offset, user in enumerate(landed):
        orders.append({
            "order_id": next_order_id + 100_000 + offset, "user_id": user["user_id"],
            "created_at": user["created_at"] + timedelta(days=3),
            "updated_at": None, "status": "paid",
            "total_amount": Decimal("25.00"), "currency": None,
        })
    done["changed users"] = len(signed_up) // 100 + len(gone) + len(landed)
    return Dataset(users, orders), done


def build(warehouse, profiles_dir, work_dir, engine: str, as_of: date) -> None:
    build_in_process(
        engine, dbt_vars(as_of, RAW_SCHEMA), work_dir, profiles_dir,
        warehouse.dbt_env(), "--exclude", "test_type:unit",
    )


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def rounds(request, profiles_dir, tmp_path_factory) -> list:
    """Per round: what changed, the marts as built, the reference's marts."""
    engine = request.param
    work_dir = tmp_path_factory.mktemp(f"rebuilds_{engine}")
    warehouse = (
        DuckDbWarehouse(work_dir, MART_SCHEMA, RAW_SCHEMA) if engine == "duckdb"
        else PostgresWarehouse(DATABASE, MART_SCHEMA, RAW_SCHEMA)
    )
    warehouse.create_database()
    dataset = generated_dataset(USERS, SEED, FIRST_AS_OF)
    warehouse.load_raw(dataset)
    build(warehouse, profiles_dir, work_dir, engine, FIRST_AS_OF)
    results = []
    for number, as_of in enumerate(ROUND_AS_OF, start=1):
        dataset, done = changed(dataset, random.Random(SEED * 100 + number), as_of)
        replace_raw(warehouse, dataset)
        build(warehouse, profiles_dir, work_dir, engine, as_of)
        built = {mart: warehouse.read_table(MART_SCHEMA, mart) for mart in MART_KEYS}
        expected = compute_marts(
            dataset.users, dataset.orders, read_fx_rates(), as_of,
            channel_cac=read_channel_cac(),
        )
        results.append((number, done, built, expected))
    return results


@pytest.mark.parametrize("mart", sorted(MART_KEYS))
def test_every_round_equals_the_spec_on_the_current_raw_rows(rounds, mart):
    for number, done, built, expected in rounds:
        assert expected[mart], f"round {number}: the reference's {mart} is empty"
        problems = column_differences(expected[mart], built[mart], MART_KEYS[mart])
        assert not problems, (
            f"{mart} after round {number} ({done}): reference vs build:\n"
            + "\n".join(problems)
        )


def test_every_round_changes_the_raw_rows(rounds):
    """No round is a no-op: each appends, changes and deletes rows and users."""
    for number, done, _, _ in rounds:
        assert all(count > 0 for count in done.values()), (number, done)
