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

from harness import PROJECT_DIR
from harness.comparison import values_match
from harness.datasets import Dataset, layout
from harness.dbt_runs import copy_project, dbt_vars, failed, run_dbt
from python.reference import compute_marts
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
    "clv_model_parameters", "user_clv", "clv_backtest", "clv_backtest_measures",
    "clv_backtest_deciles",
)
# The fit's parameters read the fit alone, none of the shop's rows: a build that
# stops on bad input may build them (pending), and publishes them no more than the rest.
MARTS_WITHOUT_SHOP_DATA = ("clv_model_parameters",)


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


# Names and literals that reach SQL as data: a source schema and a status with a
# quote, a status with a backslash (Spark's escape).
QUOTED_SCHEMA = "sh'op"
QUOTED_STATUSES = ["it's paid", "paid\\ok"]
QUOTED_VARS = {
    "ltv_revenue_statuses": ["paid", "shipped", "completed", *QUOTED_STATUSES],
}


def raw_shapes() -> Dataset:
    """Every stamp shape the README allows as text, in a schema whose name has a
    quote, with statuses that have a quote and a backslash.

    Each stamp sits where reading it wrongly moves it across a day or a horizon end:
    user 1 signs up on Jan 31 at 23:59:59.9999999 (PostgreSQL rounds it into Feb 1),
    and its order of Apr 29 at 23:59:59.9999999 is inside its 3 months only on Apr 29.
    """
    users = [
        user(1, "2025-01-31T23:59:59.9999999"),
        user(2, "2025-03-10 01:00:00 +01"),  # 00:00 UTC
        user(3, "2025-03-10 00:30:00 +01:00"),  # Mar 9 in UTC
        user(4, "2025-04-01T12:00:00.123456789z"),
    ]
    orders = [
        order(301, 1, "2025-04-29T23:59:59.9999999", amount="10.00"),
        order(302, 1, "2025-06-30 23:59:59.999999999 Z", "It's Paid ", "20.00"),
        order(303, 2, "2025-06-09 23:59:59.9999999 +00:00", "paid\\ok", "30.00"),
        # Jun 9 in UTC: outside user 3's 3 months (they end before Jun 9).
        order(304, 3, "2025-06-10 00:30:00 +01", amount="40.00"),
        # Two versions: the later in UTC (10:00Z) is the paid one, not 11:00 +02.
        order(305, 4, "2025-05-05 22:00:00z", amount="50.00",
              updated_at="2025-05-06 10:00:00 Z"),
        order(305, 4, "2025-05-05 22:00:00z", "refunded", "50.00",
              updated_at="2025-05-06 11:00:00 +02"),
    ]
    return Dataset(users, orders)


RAW_SHAPE_COLUMNS = layout(
    users={"created_at": "text"},
    orders={"created_at": "text", "updated_at": "text"},
)


def unrated_currency() -> Dataset:
    dataset = small_dataset()
    orders = [dict(order) for order in dataset.orders]
    revenue = next(
        row for row in orders
        if row["status"] == "paid" and row["created_at"] is not None
        and row["total_amount"] is not None and row["created_at"].date() < AS_OF
    )
    revenue["currency"] = "XYZ"
    return Dataset(dataset.users, orders)


OWN_RATES_TWICE = "currency,rate_month,usd_per_unit\nEUR,2025-01-01,1.1\neur,2025-01-01,1.2\n"


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
    raw_schema: str = RAW_SCHEMA
    vars: dict = {}  # vars besides the as-of date and the source schema
    own_fx_rates: str | None = None  # seeds/own_fx_rates.csv, in a project copy


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
    "raw_shapes_postgres": Build(
        raw_shapes, RAW_SHAPE_COLUMNS, raw_schema=QUOTED_SCHEMA, vars=QUOTED_VARS
    ),
    "raw_shapes_duckdb": Build(
        raw_shapes, RAW_SHAPE_COLUMNS, engine="duckdb", raw_schema=QUOTED_SCHEMA,
        vars=QUOTED_VARS,
    ),
    "impossible_date": Build(impossible_date, layout(orders={"updated_at": "text"})),
    "unrated_currency": Build(unrated_currency),
    "own_rates_twice": Build(small_dataset, own_fx_rates=OWN_RATES_TWICE),
    "duplicate_keys": Build(duplicate_keys),
    "empty_tables": Build(lambda: Dataset([], [])),
}


class Stop(NamedTuple):
    build: str
    failing: str | None  # the failing test that names the problem
    values: list  # values the failing test must list (stored failures) or quote
    message: str | None = None  # what the console says about the failing rows


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
    # A well-formed text that is no date: refused up front, with its column, an
    # example and the count.
    "timestamp_text_impossible_date": Stop(
        "impossible_date", "source_is_iso_timestamp_shop_orders_updated_at",
        ["2026-02-30 10:00:00"],
        "Failed test source_is_iso_timestamp_shop_orders_updated_at (column"
        " updated_at): 1 failing row(s); the first: (invalid_value ="
        " '2026-02-30 10:00:00')",
    ),
    "revenue_order_without_fx_rate": Stop(
        "unrated_currency", "assert_fx_rate_exists_for_revenue_orders", [],
        "currency_code = 'XYZ', order_month = ",
    ),
    "own_rate_given_twice": Stop(
        "own_rates_twice", "assert_own_fx_rates_one_rate_per_currency_and_month", [],
        "(rate_month = '2025-01-01', currency = 'EUR', rates_given = '2')",
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
    env: dict  # the environment of a dbt run on the build's warehouse


def run_build(name: str, build: Build, work_dir) -> tuple:
    # --store-failures: the rows each failing test found stay queryable.
    command = [
        "build", "--vars", dbt_vars(AS_OF, build.raw_schema, **build.vars),
        "--store-failures",
    ]
    project_dir = PROJECT_DIR
    if build.own_fx_rates is not None:
        project_dir = copy_project(
            work_dir / "project",
            ("seeds/own_fx_rates.csv", None, build.own_fx_rates),
        )
    if build.engine == "duckdb":
        warehouse = DuckDbDatabase(work_dir)
        env = warehouse.env()
        if build.timezone:
            env["TZ"] = build.timezone
        warehouse.load_raw(build.dataset(), build.columns, build.raw_schema)
        return warehouse, run_dbt(command, env, work_dir, name, project_dir=project_dir)
    warehouse = PostgresDatabase(f"bad_{name[:20]}")
    if build.timezone:
        warehouse.execute(
            sql.SQL("alter database {} set timezone to {}").format(
                sql.Identifier(warehouse.database), sql.Literal(build.timezone)
            )
        )
    warehouse.load_raw(build.dataset(), build.columns, build.raw_schema)
    return warehouse, run_dbt(
        command, warehouse.env(), work_dir, name, project_dir=project_dir
    )


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
                results[name] = Outcome(run, warehouse.query, warehouse.env())
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
    if stop.message:
        assert stop.message in run.output, run.output[-3000:]
    # No mart was built from the bad data, and none was published.
    for mart in MARTS:
        if mart not in MARTS_WITHOUT_SHOP_DATA:
            assert node_status(run, mart) == "skipped", mart
    assert "Nothing published: " in run.output
    assert not published_marts(outcomes[stop.build])


def published_marts(outcome: Outcome) -> set:
    """The marts analysts can read in the marts' schema."""
    rows = outcome.read(
        "select table_name from information_schema.tables "
        f"where table_schema = '{MART_SCHEMA}'"
    )
    return {row[0] for row in rows} & set(MARTS)


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


@pytest.mark.parametrize("name", ["raw_shapes_postgres", "raw_shapes_duckdb"])
def test_raw_shapes_match_the_reference(outcomes, name):
    """Text stamps of every allowed shape, a quoted schema name and quoted statuses
    build, and every row of user_ltv and order_audit is the reference's."""
    outcome = outcomes[name]
    assert_built(outcome)
    dataset = raw_shapes()
    orders = [
        {**row, "total_amount": Decimal(row["total_amount"])} for row in dataset.orders
    ]
    expected = compute_marts(
        dataset.users, orders, [], AS_OF,
        revenue_statuses=QUOTED_VARS["ltv_revenue_statuses"],
    )
    for mart in ("user_ltv", "order_audit"):
        columns = list(expected[mart][0])
        built = rows_by(outcome, mart, columns)
        assert sorted(built) == sorted(row[columns[0]] for row in expected[mart])
        for row in expected[mart]:
            actual = built[row[columns[0]]]
            mismatched = {
                column: (value, actual[column])
                for column, value in row.items()
                if not values_match(value, actual[column])
            }
            assert not mismatched, (mart, row[columns[0]], mismatched)
    # The stamps that a rounding or a misread offset would move.
    users = rows_by(outcome, "user_ltv", ["user_id", "signup_date", "revenue_3m"])
    assert users[1]["signup_date"] == date(2025, 1, 31)
    assert users[1]["revenue_3m"] == Decimal("10")
    assert users[3]["signup_date"] == date(2025, 3, 9)


# ---------------------------------------------------------------- wrong vars

# Each wrong var, and what the error must say: the var and what it must be.
WRONG_VARS = {
    "as_of_date_month_13": (
        {"ltv_as_of_date": "2025-13-01"},
        ["ltv_as_of_date must be a calendar date as YYYY-MM-DD"],
    ),
    "as_of_date_february_30": (
        {"ltv_as_of_date": "2025-02-30"},
        ["ltv_as_of_date must be a calendar date as YYYY-MM-DD"],
    ),
    "segment_cutoffs_reversed": (
        {"ltv_segment_vip_min_rank": 0.5, "ltv_segment_high_min_rank": 0.75,
         "ltv_segment_medium_min_rank": 0.9},
        ["ltv_segment_medium_min_rank < ltv_segment_high_min_rank <"
         " ltv_segment_vip_min_rank must be numbers strictly between 0 and 1"],
    ),
    "bucket_edge_as_text": (
        {"ltv_bucket_edges": [0, "50", 100]},
        ["ltv_bucket_edges must be a list of numbers that starts at 0"],
    ),
    "statuses_and_currency_not_text": (
        {"ltv_revenue_statuses": "paid", "ltv_known_statuses": [1, 2],
         "ltv_reporting_currency": 840},
        ["ltv_revenue_statuses must be a list of order statuses as text",
         "ltv_known_statuses must be a list of order statuses as text",
         "ltv_reporting_currency must be a currency code as text"],
    ),
    "numbers": (
        {"ltv_to_cac_target": 0, "ltv_freshness_warn_after_days": "one",
         "ltv_freshness_error_after_days": 0, "ltv_clv_backtest_holdout_days": 1.5,
         "ltv_clv_max_fit_age_days": -1, "ltv_clv_monthly_discount_rate": "1%"},
        ["ltv_to_cac_target must be a number above 0, got: 0",
         "ltv_freshness_warn_after_days must be a whole number of days above 0",
         "ltv_freshness_error_after_days must be a whole number of days above 0",
         "ltv_clv_backtest_holdout_days must be a whole number of days above 0",
         "ltv_clv_max_fit_age_days must be a whole number of days, 0 or more",
         "ltv_clv_monthly_discount_rate must be a number, 0 or more"],
    ),
}


def mart_rows(outcome: Outcome) -> dict:
    """Every published mart's rows, sorted: equal means unchanged."""
    return {
        mart: sorted(map(repr, outcome.read(f"select * from {MART_SCHEMA}.{mart}")))
        for mart in MARTS
    }


@pytest.fixture(scope="module")
def wrong_var_runs(outcomes, tmp_path_factory):
    """Each wrong var in a build over the published DuckDB marts of raw_shapes,
    with the marts before and after all of them."""
    outcome = outcomes["raw_shapes_duckdb"]
    assert_built(outcome)
    before = mart_rows(outcome)
    work_dir = tmp_path_factory.mktemp("wrong_vars")
    runs = {}
    for name, (wrong, _) in WRONG_VARS.items():
        vars_json = dbt_vars(AS_OF, QUOTED_SCHEMA, **{**QUOTED_VARS, **wrong})
        runs[name] = run_dbt(["build", "--vars", vars_json], outcome.env, work_dir, name)
    return runs, before, mart_rows(outcome)


@pytest.mark.parametrize("name", sorted(WRONG_VARS))
def test_wrong_vars_are_refused_before_anything_runs(wrong_var_runs, name):
    runs, before, after = wrong_var_runs
    run = runs[name]
    assert run.returncode != 0
    assert "Wrong vars (set in dbt_project.yml or with --vars):" in run.output
    for message in WRONG_VARS[name][1]:
        assert message in run.output, run.output[-3000:]
    # Nothing ran: the published marts are the last good build's.
    assert not run.results
    assert after == before
