"""The bad input catalogue: each kind of bad raw data, and what the build makes of it.

The outcome is one of two, never a silent wrong number:
- correct marts, with the bad rows visible with their reason (order_audit's
  exclusion_reason, or a warning of the build that lists them); or
- a build that stops, with a message that names the problem (the failing test names
  the table and column; a database error quotes the value), and no mart built.
Each case gets a database of its own; the builds run a few at a time. The decisions
behind each outcome are in DECISIONLOG.md, "Bad input".
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from typing import Callable, NamedTuple

import pytest
from psycopg2 import sql

from harness.datasets import Dataset, layout
from harness.dbt_runs import dbt_vars, failed, run_dbt
from reliability_support import (
    AS_OF,
    MART_SCHEMA,
    RAW_SCHEMA,
    DuckDbDatabase,
    PostgresDatabase,
    generated_dataset,
)

PARALLEL_BUILDS = 3
MARTS = (
    "user_ltv", "ltv_summary", "ltv_segments", "ltv_distribution",
    "ltv_cohorts", "ltv_by_channel", "user_rfm", "order_audit",
    "clv_model_parameters", "user_clv", "clv_backtest",
)


# ---------------------------------------------------------------- datasets


def small_dataset() -> Dataset:
    return generated_dataset(n_users=40, seed=3)


def order(order_id, user_id, created_at, status="paid", amount="10.00",
          **extra) -> dict:
    return {
        "order_id": order_id,
        "user_id": user_id,
        "created_at": created_at,
        "updated_at": extra.get("updated_at"),
        "status": status,
        "total_amount": amount,
        "currency": extra.get("currency", "USD"),
    }


def user(user_id, created_at, channel="organic") -> dict:
    return {
        "user_id": user_id, "created_at": created_at, "acquisition_channel": channel,
    }


EXTREME_AMOUNT = Decimal("99999999999999.99")  # the largest numeric(18,2)
LONG_STATUS = "paid" + " and then some" * 400


def dirty_dataset() -> Dataset:
    """One row of every dirty kind the spec lists, plus the catalogue's own."""
    users = [
        user(1, datetime(2025, 1, 10, 10)),
        user(2, datetime(2025, 1, 10, 10), channel=None),
        user(3, None),  # no signup timestamp
        user(4, datetime(2025, 6, 1)),  # no orders
        user(5, datetime(2026, 4, 15)),  # signs up after the as-of date
        user(6, datetime(2025, 2, 1)),
        user(7, datetime(2025, 3, 1)),
    ]
    day = datetime(2025, 2, 15, 12)
    orders = [
        order(101, 1, datetime(2025, 1, 15, 9)),
        # An exact duplicate, with a status to normalize.
        order(102, 1, day, " Paid", "20.00"),
        order(102, 1, day, " Paid", "20.00"),
        # Re-sent: pending, then paid with a corrected amount (the latest wins).
        order(103, 1, day, "pending", "30.00", updated_at=datetime(2025, 2, 16)),
        order(103, 1, day, "PAID", "31.00", updated_at=datetime(2025, 2, 20)),
        # Paid, then refunded.
        order(104, 1, day, "paid", "40.00", updated_at=datetime(2025, 3, 1)),
        order(104, 1, day, "refunded", "40.00", updated_at=datetime(2025, 3, 5)),
        order(105, None, day),
        order(106, 1, None),
        order(107, 1, day, amount=None),
        order(108, 1, day, amount="-5.00"),
        order(109, 999, day),
        order(110, 3, day),
        order(111, 1, datetime(2026, 3, 31, 0, 0, 1)),
        order(112, 5, datetime(2026, 3, 1)),
        # Before the signup: counts from the signup day on.
        order(113, 2, datetime(2025, 1, 1, 8), "SHIPPED ", "50.00"),
        order(114, 6, day, amount=str(EXTREME_AMOUNT)),
        order(115, 6, day, amount="0.01"),
        order(116, 7, datetime(2025, 3, 2), "PAÏD"),
        order(117, 7, datetime(2025, 3, 2), LONG_STATUS),
        order(118, 7, datetime(2025, 3, 2), "支払い済み"),
        order(119, 7, datetime(2025, 3, 2), "paid\t", "3.00"),
        order(120, 7, datetime(2025, 3, 2), "completed", "1.00"),
    ]
    return Dataset(users, orders)


DIRTY_REASONS = {
    101: None, 102: None, 103: None,
    104: "non_revenue_status",
    105: "missing_user_id",
    106: "missing_order_date",
    107: "missing_amount",
    108: "negative_amount",
    109: "unknown_user",
    110: "user_without_signup_date",
    111: "ordered_on_or_after_as_of_date",
    112: "user_signed_up_on_or_after_as_of_date",
    113: None, 114: None, 115: None,
    116: "non_revenue_status", 117: "non_revenue_status",
    118: "non_revenue_status", 119: "non_revenue_status",
    120: None,
}
DIRTY_REVENUE = {
    1: Decimal("61.00"),  # 10 + 20 + 31
    2: Decimal("50.00"),  # the pre-signup order
    4: Decimal("0"),
    6: EXTREME_AMOUNT + Decimal("0.01"),
    7: Decimal("1.00"),
}


def zoned_dataset() -> Dataset:
    """Signups as timestamps with time zone; orders with timestamps and amounts as text.

    Each order sits where reading its offset wrongly would move it across a horizon
    end or a day: user 1 signs up 2025-02-01 04:30 UTC (still Jan 31 in New York and
    Los Angeles), so its 3-month window ends before 2025-05-01.
    """
    users = [
        user(1, "2025-01-31 23:30:00-05:00"),
        user(2, "2025-03-10 01:00:00+00"),
    ]
    orders = [
        # Without a zone: UTC.
        order(201, 1, "2025-02-01 03:00:00", "paid", " 12.50 "),
        # 2025-05-01 02:00 in India is 2025-04-30 20:30 UTC: inside the 3 months.
        order(202, 1, "2025-05-01T02:00:00+05:30", "paid", "1e2"),
        # User 2's 3 months end before 2025-06-10.
        order(203, 2, "2025-06-09T23:59:59Z", "paid", "7"),
        order(204, 2, "2025-06-10 00:30:00+01:00", "paid", "3"),
        # Two versions: the later in UTC is the paid one (10:00Z, not 12:00+03).
        order(205, 2, "2025-07-01 08:00:00", "paid", "5",
              updated_at="2025-07-01 10:00:00+00"),
        order(205, 2, "2025-07-01 08:00:00", "refunded", "5",
              updated_at="2025-07-01 12:00:00+03:00"),
    ]
    return Dataset(users, orders)


ZONED_COLUMNS = layout(
    users={"created_at": "timestamp with time zone"},
    orders={"created_at": "text", "updated_at": "text", "total_amount": "text"},
)


TEXT_COLUMNS = layout(
    orders={"created_at": "text", "updated_at": "text", "total_amount": "text"},
)
NOT_DECIMAL_TEXT = ["12,50", "abc", "", "NaN", "Infinity", "1e30", "$10"]
NOT_TIMESTAMP_TEXT = ["yesterday", "now", "epoch", "infinity", "31/01/2026", "soon"]


def unparseable_text() -> Dataset:
    """Amounts and timestamps stored as text that does not parse (or parses wrong)."""
    dataset = small_dataset()
    orders = [dict(order) for order in dataset.orders]
    for order_row, amount in zip(orders, NOT_DECIMAL_TEXT):
        order_row["total_amount"] = amount
    for order_row, created_at in zip(orders[10:], NOT_TIMESTAMP_TEXT):
        order_row["created_at"] = created_at
    return Dataset(dataset.users, orders)


def special_values() -> Dataset:
    """Typed columns holding values that are not amounts or points in time."""
    dataset = small_dataset()
    users = [dict(user) for user in dataset.users]
    orders = [dict(order) for order in dataset.orders]
    orders[0]["total_amount"] = "NaN"
    orders[1]["total_amount"] = "1e30"  # beyond decimal(38, 12)
    orders[2]["created_at"] = "infinity"
    users[0]["created_at"] = "-infinity"
    return Dataset(users, orders)


def impossible_date() -> Dataset:
    dataset = small_dataset()
    orders = [dict(order) for order in dataset.orders]
    orders[0]["updated_at"] = "2026-02-30 10:00:00"
    return Dataset(dataset.users, orders)


def duplicate_keys() -> Dataset:
    dataset = small_dataset()
    orders = [dict(order) for order in dataset.orders]
    orders[0]["order_id"] = None
    return Dataset([*dataset.users, dict(dataset.users[0])], orders)


class Build(NamedTuple):
    dataset: Callable  # () -> Dataset
    columns: dict = layout()
    engine: str = "postgres"
    timezone: str | None = None  # the sessions' time zone, when not UTC


BUILDS = {
    # Correct marts, every bad row visible with its reason.
    "dirty_rows": Build(dirty_dataset),
    "time_zones_and_text_postgres": Build(
        zoned_dataset, ZONED_COLUMNS, timezone="America/Los_Angeles"
    ),
    "time_zones_and_text_duckdb": Build(
        zoned_dataset,
        layout(
            users={"created_at": "timestamptz"},
            orders={"created_at": "varchar", "updated_at": "timestamptz",
                    "total_amount": "varchar"},
        ),
        engine="duckdb",
        timezone="America/Los_Angeles",
    ),
    # Builds that stop: several bad kinds each, every one caught by its own check.
    "unparseable_text": Build(unparseable_text, TEXT_COLUMNS),
    "special_values": Build(special_values, layout(orders={"total_amount": "numeric"})),
    "impossible_date": Build(impossible_date, layout(orders={"updated_at": "text"})),
    "duplicate_keys": Build(duplicate_keys),
    "empty_tables": Build(lambda: Dataset([], [])),
}


class Stop(NamedTuple):
    build: str
    failing: str | None  # the failing test that names the problem
    values: list  # values the failing test must list (stored failures) or quote


STOPS = {
    "amount_text_not_a_number": Stop(
        "unparseable_text", "source_is_decimal_amount_shop_orders_total_amount",
        NOT_DECIMAL_TEXT,
    ),
    "timestamp_text_not_a_timestamp": Stop(
        "unparseable_text", "source_is_iso_timestamp_shop_orders_created_at",
        NOT_TIMESTAMP_TEXT,
    ),
    "amount_nan": Stop(
        "special_values", "source_is_decimal_amount_shop_orders_total_amount", ["NaN"]
    ),
    "amount_beyond_the_money_type": Stop(
        "special_values", "source_is_decimal_amount_shop_orders_total_amount",
        ["1" + "0" * 30],
    ),
    "timestamp_infinite": Stop(
        "special_values", "source_is_iso_timestamp_shop_orders_created_at", ["infinity"]
    ),
    "signup_infinite": Stop(
        "special_values", "source_is_iso_timestamp_shop_users_created_at", ["-infinity"]
    ),
    # A well-formed text that is no date: the database's cast error quotes it.
    "timestamp_text_impossible_date": Stop(
        "impossible_date", None, ["2026-02-30 10:00:00"]
    ),
    "duplicate_user_id": Stop("duplicate_keys", "unique_stg_shop__users_user_id", []),
    "null_order_id": Stop("duplicate_keys", "not_null_stg_shop__orders_order_id", []),
    "empty_orders": Stop("empty_tables", "source_not_empty_shop_orders_", []),
    "empty_users": Stop("empty_tables", "source_not_empty_shop_users_", []),
}


# ---------------------------------------------------------------- the builds


class Outcome(NamedTuple):
    run: object  # DbtRun
    read: Callable  # (sql text) -> rows


def run_build(name: str, build: Build, work_dir) -> tuple:
    # --store-failures: the rows each failing test found stay queryable.
    command = ["build", "--vars", dbt_vars(AS_OF, RAW_SCHEMA), "--store-failures"]
    if build.engine == "duckdb":
        warehouse = DuckDbDatabase(work_dir)
        env = warehouse.env()
        if build.timezone:
            env["TZ"] = build.timezone
        warehouse.load_raw(build.dataset(), build.columns)
        return warehouse, run_dbt(command, env, work_dir, name)
    warehouse = PostgresDatabase(f"bad_{name[:20]}")
    if build.timezone:
        warehouse.execute(
            sql.SQL("alter database {} set timezone to {}").format(
                sql.Identifier(warehouse.database), sql.Literal(build.timezone)
            )
        )
    warehouse.load_raw(build.dataset(), build.columns)
    return warehouse, run_dbt(command, warehouse.env(), work_dir, name)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    work_dirs = {name: tmp_path_factory.mktemp(name) for name in BUILDS}
    warehouses = []
    try:
        with ThreadPoolExecutor(PARALLEL_BUILDS) as pool:
            futures = {
                name: pool.submit(run_build, name, build, work_dirs[name])
                for name, build in BUILDS.items()
            }
            results = {}
            for name, future in futures.items():
                warehouse, run = future.result()
                warehouses.append(warehouse)
                results[name] = Outcome(run, warehouse.query)
        yield results
    finally:
        for warehouse in warehouses:
            if isinstance(warehouse, PostgresDatabase):
                warehouse.drop_database()


def node_status(run, name: str) -> str | None:
    return next(
        (result["status"] for result in run.results.values() if result["name"] == name),
        None,
    )


def stored_failures(outcome: Outcome, test_name: str) -> set:
    """The invalid values a failing test stored (dbt --store-failures), as text."""
    ((schema,),) = outcome.read(
        "select table_schema from information_schema.tables "
        f"where table_name = '{test_name}'"
    )
    return {
        row[0]
        for row in outcome.read(
            f"select cast(invalid_value as text) from {schema}.{test_name}"
        )
    }


# ---------------------------------------------------------------- stops


@pytest.mark.parametrize("kind", sorted(STOPS))
def test_the_build_stops_and_names_the_problem(outcomes, kind):
    stop = STOPS[kind]
    run = outcomes[stop.build].run
    assert run.returncode != 0, run.output[-3000:]
    found = failed(run.results)
    if stop.failing:
        # The failing test names the table and the column (or the key)...
        assert stop.failing in found, found
        assert f"Failure in test {stop.failing}" in run.output
        # ...and lists every bad value.
        if stop.values:
            stored = stored_failures(outcomes[stop.build], stop.failing)
            assert set(stop.values) <= stored
    else:
        # The database's error quotes the value, in dbt's output.
        for value in stop.values:
            assert any(value in message for message in found.values()), found
            assert value in run.output
    # No mart was built from the bad data.
    for mart in MARTS:
        assert node_status(run, mart) == "skipped", mart


# ---------------------------------------------------------------- correct marts


def rows_by(outcome: Outcome, mart: str, columns: list) -> dict:
    """A mart's rows as dicts of the columns, by the first column."""
    rows = outcome.read(f"select {', '.join(columns)} from {MART_SCHEMA}.{mart}")
    return {row[0]: dict(zip(columns, row)) for row in rows}


def assert_built(outcome: Outcome) -> None:
    assert outcome.run.returncode == 0, outcome.run.output[-4000:]


def test_dirty_rows_are_counted_or_explained(outcomes):
    outcome = outcomes["dirty_rows"]
    assert_built(outcome)

    audit = rows_by(
        outcome, "order_audit", ["order_id", "exclusion_reason", "source_row_count"]
    )
    assert {order_id: row["exclusion_reason"] for order_id, row in audit.items()} == (
        DIRTY_REASONS
    )
    resent = {
        order_id: audit[order_id]["source_row_count"] for order_id in (102, 103, 104)
    }
    assert resent == {102: 2, 103: 2, 104: 2}

    users = rows_by(
        outcome, "user_ltv", ["user_id", "revenue_lifetime", "acquisition_channel"]
    )
    assert {user_id: row["revenue_lifetime"] for user_id, row in users.items()} == (
        DIRTY_REVENUE
    )
    assert users[2]["acquisition_channel"] == "unknown"

    # Money stays exact, even at the largest amount a numeric(18,2) holds.
    (lifetime,) = outcome.read(
        f"select total_revenue, eligible_users from {MART_SCHEMA}.ltv_summary "
        "where horizon = 'lifetime'"
    )
    assert lifetime == (sum(DIRTY_REVENUE.values()), len(DIRTY_REVENUE))

    # A plain `dbt build` on PostgreSQL grants too: the marts, and their schema,
    # not the schemas of the staging and intermediate layers.
    privileges = outcome.read(
        "select has_schema_privilege('ltv_analyst', %s, 'USAGE'), "
        "has_table_privilege('ltv_analyst', %s, 'SELECT'), "
        "has_schema_privilege('ltv_analyst', %s, 'USAGE'), "
        "has_schema_privilege('ltv_analyst', %s, 'USAGE')",
        [MART_SCHEMA, f"{MART_SCHEMA}.user_ltv", f"{MART_SCHEMA}_staging",
         f"{MART_SCHEMA}_intermediate"],
    )
    assert privileges == [(True, True, False, False)]

    # The bad rows that are not in order_audit's reasons are listed as warnings.
    run = outcome.run
    assert node_status(run, "not_null_stg_shop__users_signup_date") == "warn"
    unknown_status = (
        "accepted_values_stg_shop__orders_order_status___var_ltv_revenue_statuses_"
        "var_ltv_known_statuses_"
    )
    unknown_user = (
        "relationships_stg_shop__orders_user_id__user_id__ref_stg_shop__users_"
    )
    assert node_status(run, unknown_status) == "warn"
    assert node_status(run, unknown_user) == "warn"


@pytest.mark.parametrize(
    "name", ["time_zones_and_text_postgres", "time_zones_and_text_duckdb"]
)
def test_time_zones_and_text_values_are_read_as_utc(outcomes, name):
    outcome = outcomes[name]
    assert_built(outcome)

    users = rows_by(
        outcome, "user_ltv",
        ["user_id", "signup_date", "revenue_3m", "revenue_lifetime"],
    )
    assert users[1]["signup_date"] == date(2025, 2, 1)
    assert users[1]["revenue_3m"] == Decimal("112.50")
    assert users[2]["signup_date"] == date(2025, 3, 10)
    assert users[2]["revenue_3m"] == Decimal("10")
    assert users[2]["revenue_lifetime"] == Decimal("15")

    audit = rows_by(
        outcome, "order_audit", ["order_id", "order_date", "exclusion_reason"]
    )
    assert audit[202]["order_date"] == date(2025, 4, 30)
    assert audit[204]["order_date"] == date(2025, 6, 9)
    assert audit[205]["exclusion_reason"] is None
    assert all(row["exclusion_reason"] is None for row in audit.values())
