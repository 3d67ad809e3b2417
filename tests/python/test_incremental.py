"""An incremental run after late and changed orders gives exactly the full refresh.

Per engine: build on a generated dataset that holds one order stamped in 2099 (a
typo that must not stop later runs from seeing new rows), then land a delta the way
a shop's export does (refunds and late payments as new versions with a later
updated_at, orders that arrive late for old dates, an order moved to another user, a
row inside the lookback window), run `dbt build` incrementally with a later as-of
date, and compare every mart with a `--full-refresh` build of the same raw data.
Then move the as-of date back by months, with no new data, so that many revenue
days change sides: the incremental run must again equal the full refresh. Then
empty the incremental tables, as a PostgreSQL crash empties unlogged tables: the
next run must rebuild them whole. Last, change what no stamp shows: the revenue
statuses, then the raw tables themselves (var ltv_source_schema, as when the
project is pointed from the demo at real data: other users, other amounts, orders
missing, all stamped long ago). Each run must equal a full refresh. Users carry no
update stamp: after a signup corrected in place, a user deleted and a user row that
lands late, the incremental build must fail the test that names them, and
`--full-refresh` must pass.
"""

import json
import os
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import demo_data
import duckdb
import pytest
from dbt.cli.main import dbtRunner, dbtRunnerResult
from conftest import (
    PROJECT_DIR,
    RAW_SCHEMA,
    RAW_TABLES,
    Dataset,
    DuckDbWarehouse,
    PostgresWarehouse,
    csv_stream,
    run_dbt,
    text_rows,
)
from test_marts_match_reference import MART_KEYS, column_differences

FIRST_AS_OF = date(2026, 3, 31)
SECOND_AS_OF = date(2026, 5, 15)
THIRD_AS_OF = date(2026, 1, 15)  # moved back: days in between leave the windows
TYPO_STAMP = datetime(2099, 1, 1)  # an updated_at far after any run
MART_SCHEMA = "ltv_incremental"
DATABASE = "ltv_pytest_incremental" + os.environ.get("LTV_TEST_DB_SUFFIX", "")
REVENUE_STATUSES = {"paid", "shipped", "completed"}
OTHER_REVENUE_STATUSES = ["paid", "shipped", "completed", "pending"]
OTHER_RAW_SCHEMA = "ltv_pytest_raw_other"
# Other raw tables: a user in seven and an order in five gone, amounts doubled.
OTHER_RAW_TABLES_SQL = (
    f"create schema {OTHER_RAW_SCHEMA}",
    f"create table {OTHER_RAW_SCHEMA}.users as "
    f"select * from {RAW_SCHEMA}.users where user_id % 7 <> 0",
    f"create table {OTHER_RAW_SCHEMA}.orders as "
    "select order_id, user_id, created_at, updated_at, status, "
    "total_amount * 2 as total_amount, currency "
    f"from {RAW_SCHEMA}.orders where order_id % 5 <> 0",
)
INCREMENTAL_TABLES = ("int_user_revenue_days", "int_user_revenue_totals")


class IncrementalPostgres(PostgresWarehouse):
    def __init__(self):
        super().__init__(DATABASE, MART_SCHEMA)

    def append(self, table: str, rows: list) -> None:
        names = [name for name, _ in RAW_TABLES[table]]
        connection = self.connect(self.database)
        with connection, connection.cursor() as cursor:
            cursor.copy_expert(
                f"copy {RAW_SCHEMA}.{table} ({', '.join(names)}) "
                "from stdin with (format csv, null '\\N')",
                csv_stream(text_rows(rows, names)),
            )
        connection.close()

    def truncate(self, table: str) -> None:
        self.execute(f"truncate {self.schema}.{table}")


class IncrementalDuckDb(DuckDbWarehouse):
    def __init__(self, work_dir):
        super().__init__(work_dir, MART_SCHEMA)

    def truncate(self, table: str) -> None:
        self.execute(f"delete from {self.schema}.{table}")

    def append(self, table: str, rows: list) -> None:
        names = [name for name, _ in RAW_TABLES[table]]
        placeholders = ", ".join("?" for _ in names)
        with duckdb.connect(str(self.path)) as connection:
            connection.executemany(
                f"insert into {RAW_SCHEMA}.{table} ({', '.join(names)}) "
                f"values ({placeholders})",
                text_rows(rows, names),
            )


def typo_stamped_order(orders: list, users: list) -> dict:
    """A paid order whose updated_at says 2099: the newest stamp, yet not trusted."""
    return {
        "order_id": 1 + max(order["order_id"] for order in orders),
        "user_id": min(user["user_id"] for user in users if user["created_at"]),
        "created_at": datetime(2025, 10, 1, 9), "updated_at": TYPO_STAMP,
        "status": "paid", "total_amount": Decimal("5.00"), "currency": None,
    }


def delta_rows(orders: list, users: list) -> list:
    """New order versions and late orders, stamped when they land: after the data
    already loaded, and no earlier than now (the typo's 2099 aside)."""
    loaded_until = max(
        order["updated_at"] or order["created_at"]
        for order in orders
        if order["created_at"] is not None
        and (order["updated_at"] or order["created_at"]) < TYPO_STAMP
    )
    now = datetime.now(timezone.utc).replace(tzinfo=None)  # raw stamps are naive UTC
    landed = max(loaded_until + timedelta(hours=6), now)
    latest = {}
    for order in orders:
        key = order["order_id"]
        stamp = order["updated_at"] or order["created_at"] or datetime.min
        if key not in latest or stamp >= (latest[key]["updated_at"] or latest[key]["created_at"] or datetime.min):
            latest[key] = order
    valid = [
        order for order in latest.values()
        if order["user_id"] is not None and order["created_at"] is not None
        and order["total_amount"] is not None and order["total_amount"] >= 0
        and order["created_at"].date() < FIRST_AS_OF
    ]
    paid = [o for o in valid if (o["status"] or "").strip().lower() in REVENUE_STATUSES]
    pending = [o for o in valid if (o["status"] or "").strip().lower() == "pending"]
    user_ids = sorted(user["user_id"] for user in users if user["created_at"])
    next_order_id = 1 + max(order["order_id"] for order in orders)

    delta = []
    for order in paid[::40]:  # refunds after payment
        delta.append({**order, "status": "refunded", "updated_at": landed})
    for order in pending[::10]:  # late payments
        delta.append({**order, "status": "paid", "updated_at": landed})
    for order in paid[5:6]:  # an order re-attributed to another user
        delta.append({**order, "user_id": user_ids[0], "updated_at": landed})
    for offset, user_id in enumerate(user_ids[::50]):  # late orders for old dates
        created = datetime(2025, 11, 30, 12) + timedelta(days=offset)
        delta.append({
            "order_id": next_order_id + offset, "user_id": user_id,
            "created_at": created, "updated_at": landed, "status": "Paid",
            "total_amount": Decimal("37.50"), "currency": None,
        })
    # A late row without updated_at, stamped inside the lookback window.
    delta.append({
        "order_id": next_order_id + 10_000, "user_id": user_ids[1],
        "created_at": landed - timedelta(days=1), "updated_at": None,
        "status": "paid", "total_amount": Decimal("12.00"), "currency": "eur",
    })
    return delta


def build(
    warehouse, profiles_dir, work_dir, as_of: date, *extra, check=True, **other_vars
) -> dbtRunnerResult:
    """dbt build; unless check is false, fail the test when it does not succeed."""
    dbt_vars = {"ltv_source_schema": RAW_SCHEMA, "ltv_as_of_date": as_of.isoformat()}
    with pytest.MonkeyPatch.context() as env:
        for name, value in warehouse.dbt_env().items():
            env.setenv(name, value)
        return (run_dbt if check else dbtRunner().invoke)([
            "build",
            "--project-dir", str(PROJECT_DIR),
            "--profiles-dir", str(profiles_dir),
            "--vars", json.dumps({**dbt_vars, **other_vars}),
            "--exclude", "test_type:unit",
            "--target-path", str(work_dir / "target"),
            "--log-path", str(work_dir / "logs"),
            *extra,
        ])


def unstamped_user_changes(users: list, orders: list, other_users: set) -> tuple:
    """Statements that change the other raw users without a stamp, and the user ids
    they touch: the signup of a user without orders moved back 40 days (a user with
    orders stamped after the run's start is recomputed on every run, which would
    correct it), a user deleted, and a user who signed up long ago (left out of the
    other users) landing late."""
    buyers = {order["user_id"] for order in orders}
    ids = sorted(user["user_id"] for user in users if user["user_id"] in other_users)
    corrected = min(user_id for user_id in ids if user_id not in buyers)
    deleted = ids[0] if ids[0] != corrected else ids[1]
    late = min(
        user["user_id"]
        for user in users
        if user["user_id"] % 7 == 0
        and user["created_at"] is not None
        and user["created_at"] < datetime(2025, 1, 1)
    )
    statements = (
        f"update {OTHER_RAW_SCHEMA}.users "
        f"set created_at = created_at - interval '40 days' where user_id = {corrected}",
        f"delete from {OTHER_RAW_SCHEMA}.users where user_id = {deleted}",
        f"insert into {OTHER_RAW_SCHEMA}.users "
        f"select * from {RAW_SCHEMA}.users where user_id = {late}",
    )
    reasons = {
        corrected: "signup_changed_in_place",
        deleted: "user_deleted_from_raw_users",
        late: "user_missing_from_revenue_totals",
    }
    return statements, reasons


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def incremental_and_full(request, profiles_dir, tmp_path_factory):
    engine = request.param
    work_dir = tmp_path_factory.mktemp(f"incremental_{engine}")
    warehouse = (
        IncrementalDuckDb(work_dir) if engine == "duckdb" else IncrementalPostgres()
    )
    users, orders = demo_data.generate(1500, 11, FIRST_AS_OF)
    orders.append(typo_stamped_order(orders, users))
    warehouse.load_raw(Dataset(users, orders))
    build(warehouse, profiles_dir, work_dir, FIRST_AS_OF, "--target", engine)
    delta = delta_rows(orders, users)
    warehouse.append("orders", delta)
    build(warehouse, profiles_dir, work_dir, SECOND_AS_OF, "--target", engine)
    incremental = {"second": read_marts(warehouse)}
    build(warehouse, profiles_dir, work_dir, THIRD_AS_OF, "--target", engine)
    incremental["third"] = read_marts(warehouse)
    # What a PostgreSQL crash leaves of the unlogged incremental tables: nothing.
    # The next run must rebuild them whole, not publish empty marts.
    for table in INCREMENTAL_TABLES:
        warehouse.truncate(table)
    build(warehouse, profiles_dir, work_dir, THIRD_AS_OF, "--target", engine)
    incremental["third, after losing the incremental tables"] = read_marts(warehouse)
    # Inputs no stamp shows: each run must rebuild the incremental tables whole.
    other_inputs = {
        "other revenue statuses": {"ltv_revenue_statuses": OTHER_REVENUE_STATUSES},
        "other raw tables": {
            "ltv_revenue_statuses": OTHER_REVENUE_STATUSES,
            "ltv_source_schema": OTHER_RAW_SCHEMA,
        },
    }
    warehouse.execute(*OTHER_RAW_TABLES_SQL)
    for name, other_vars in other_inputs.items():
        build(
            warehouse, profiles_dir, work_dir, THIRD_AS_OF,
            "--target", engine, **other_vars,
        )
        incremental[name] = read_marts(warehouse)
    full = {}
    full_builds = {
        "third": (THIRD_AS_OF, {}),
        "second": (SECOND_AS_OF, {}),
        **{name: (THIRD_AS_OF, other_vars) for name, other_vars in other_inputs.items()},
    }
    for name, (as_of, other_vars) in full_builds.items():
        build(
            warehouse, profiles_dir, work_dir, as_of,
            "--target", engine, "--full-refresh", **other_vars,
        )
        full[name] = read_marts(warehouse)
    full["third, after losing the incremental tables"] = full["third"]
    # Users changed without a stamp: the incremental build must name them.
    statements, reasons = unstamped_user_changes(
        users,
        orders + delta,
        {row["user_id"] for row in full["other raw tables"]["user_ltv"].rows},
    )
    warehouse.execute(*statements)
    other_vars = other_inputs["other raw tables"]
    result = build(
        warehouse, profiles_dir, work_dir, THIRD_AS_OF,
        "--target", engine, "--store-failures", check=False, **other_vars,
    )
    failed = {r.node.name: r.failures for r in result.result if r.status == "fail"}
    named = {
        row["user_id"]: row["reason"]
        for row in warehouse.read_table(
            "dbt_test__audit", "assert_incremental_users_match_raw_users"
        ).rows
    }
    build(
        warehouse, profiles_dir, work_dir, THIRD_AS_OF,
        "--target", engine, "--full-refresh", **other_vars,
    )
    unstamped = {"expected": reasons, "named": named, "failed_tests": failed}
    return incremental, full, delta, unstamped


def read_marts(warehouse) -> dict:
    return {mart: warehouse.read_table(MART_SCHEMA, mart) for mart in MART_KEYS}


@pytest.mark.parametrize(
    "run",
    [
        "second",
        "third",
        "third, after losing the incremental tables",
        "other revenue statuses",
        "other raw tables",
    ],
)
@pytest.mark.parametrize("mart", sorted(MART_KEYS))
def test_incremental_run_equals_full_refresh(incremental_and_full, mart, run):
    incremental, full, _, _ = incremental_and_full
    assert full[run][mart].rows, f"{mart} is empty"
    problems = column_differences(
        full[run][mart].rows, incremental[run][mart], MART_KEYS[mart]
    )
    assert not problems, f"{mart}, {run} run: full refresh (expected) vs incremental:\n" + (
        "\n".join(problems)
    )


def lifetime_revenue(marts: dict) -> Decimal:
    return sum(row["revenue_lifetime"] for row in marts["user_ltv"].rows)


def test_moving_the_as_of_date_back_changes_lifetime_revenue(incremental_and_full):
    """The third run is not a no-op: revenue days between the two dates drop out."""
    _, full, _, _ = incremental_and_full
    assert lifetime_revenue(full["third"]) < lifetime_revenue(full["second"])


def test_other_inputs_change_the_marts(incremental_and_full):
    """Neither change of inputs is a no-op: pending orders add revenue, and the
    other raw tables have fewer users, fewer orders and doubled amounts."""
    _, full, _, _ = incremental_and_full
    statuses, raw_tables = full["other revenue statuses"], full["other raw tables"]
    assert lifetime_revenue(statuses) > lifetime_revenue(full["third"])
    assert len(raw_tables["user_ltv"].rows) < len(statuses["user_ltv"].rows)
    assert len(raw_tables["order_audit"].rows) < len(statuses["order_audit"].rows)


def test_delta_changes_the_marts(incremental_and_full):
    """The delta is not a no-op: refunds and late orders move lifetime revenue."""
    _, full, delta, _ = incremental_and_full
    assert len(delta) > 20
    audit = {row["order_id"]: row for row in full["second"]["order_audit"].rows}
    refunded = [row for row in delta if row["status"] == "refunded"]
    assert refunded and all(
        audit[row["order_id"]]["order_status"] == "refunded" for row in refunded
    )


def test_users_changed_without_a_stamp_fail_the_build_by_name(incremental_and_full):
    """A signup corrected in place, a user deleted and a user row landing late are
    named, each with its reason, by the test that asks for --full-refresh."""
    *_, unstamped = incremental_and_full
    assert unstamped["named"] == unstamped["expected"]
    assert unstamped["failed_tests"].get("assert_incremental_users_match_raw_users") == 3
