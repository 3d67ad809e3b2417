"""Behaviour of the whole project that a mart-by-mart comparison cannot show.

- A revenue order without an exchange rate fails the build, and the failing test names
  the currency and the month; the same order with a non-revenue status does not.
- Pointed at real raw data (var `ltv_source_schema`), the demo seeds write nothing: no
  relation appears in the demo schema and the raw tables keep their rows.
- Without var `ltv_as_of_date`, every mart is as of the build's UTC day.
- Every raw order is accounted for in `order_audit`, and the revenue it counts is
  exactly the revenue of `user_ltv`.

The datasets are small (a few hundred generated users), loaded into raw tables of our
own with the conftest warehouses. Tests that only read share one build per engine.
"""

import json
from contextlib import contextmanager
from datetime import date, datetime, time, timezone
from decimal import Decimal, Inexact, localcontext
from pathlib import Path
from typing import NamedTuple

import pytest
from dbt.cli.main import dbtRunner, dbtRunnerResult

import demo_data
from conftest import (
    AS_OF_DATE,
    ENGINES,
    MART_SCHEMA,
    MARTS,
    RAW_SCHEMA,
    make_warehouse,
    read_fx_rates,
)
from harness import PROJECT_DIR
from harness.datasets import Dataset
from harness.dbt_runs import dbt_failures

N_USERS = 300
SEED = 11
DEMO_SCHEMA = "ltv_demo_raw"
FX_TEST = "assert_fx_rate_exists_for_revenue_orders"
FIXED_AS_OF_DATE = {"ltv_as_of_date": AS_OF_DATE.isoformat()}


class LoadedProject:
    """The project on one engine, pointed at raw tables we loaded ourselves."""

    def __init__(self, engine: str, work_dir: Path, dataset: Dataset):
        self.engine = engine
        self.dataset = dataset
        self.work_dir = work_dir
        self.warehouse = make_warehouse(engine, work_dir)
        self.warehouse.load_raw(dataset)

    def run(self, profiles_dir: Path, dbt_vars: dict, *extra_args,
            command: tuple = ("build",)) -> dbtRunnerResult:
        """`dbt build` (or `command`) reading the raw schema we loaded; the result,
        failed or not."""
        dbt_vars = {"ltv_source_schema": RAW_SCHEMA, **dbt_vars}
        args = [
            *command,
            "--project-dir", str(PROJECT_DIR),
            "--profiles-dir", str(profiles_dir),
            "--target", self.engine,
            "--vars", json.dumps(dbt_vars),
            "--target-path", str(self.work_dir / "target"),
            "--log-path", str(self.work_dir / "logs"),
            *extra_args,
        ]
        with warehouse_env(self.warehouse):
            return dbtRunner().invoke(args)

    def rows(self, schema: str, name: str) -> list:
        return self.warehouse.read_table(schema, name).rows

    def relations_in(self, schema: str) -> set:
        """Names of the tables and views in a schema (empty when there is none)."""
        return {
            row["table_name"]
            for row in self.rows("information_schema", "tables")
            if row["table_schema"] == schema
        }


class DefaultAsOfBuild(NamedTuple):
    """The shared build without var `ltv_as_of_date`, and the UTC days around it."""

    project: LoadedProject
    marts: set  # the models built from models/marts/
    utc_days: set  # the UTC day when the build started and when it ended


@contextmanager
def warehouse_env(warehouse):
    """The environment variables that point profiles.yml at the warehouse."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in warehouse.dbt_env().items():
            env.setenv(name, value)
        yield


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


def assert_succeeded(result: dbtRunnerResult) -> None:
    assert result.success, f"dbt build failed:\n{dbt_failures(result)}"


def unsuccessful_nodes(result: dbtRunnerResult) -> dict:
    """Node name -> node result, for the nodes that errored or failed."""
    return {
        node_result.node.name: node_result
        for node_result in result.result or []
        if node_result.status in ("error", "fail")
    }


def built_marts(result: dbtRunnerResult) -> set:
    """Names of the models the build made from models/marts/."""
    return {
        node_result.node.name
        for node_result in result.result
        if node_result.node.resource_type == "model"
        and node_result.node.fqn[1] == "marts"
    }


def exact_sum(values) -> Decimal:
    """The sum of Decimals; raises instead of rounding."""
    with localcontext() as context:
        context.prec = 100
        context.traps[Inexact] = True
        return sum(values, Decimal(0))


def is_explained(audit_row: dict) -> bool:
    """Revenue without a reason, or left out with one."""
    has_reason = audit_row["exclusion_reason"] is not None
    return (audit_row["is_revenue"], has_reason) in {(True, False), (False, True)}


def with_order_in(dataset: Dataset, currency: str, day: date, status: str) -> Dataset:
    """The dataset plus one order of a known user in `currency`, dated `day`."""
    user = next(u for u in dataset.users if u["created_at"].date() < AS_OF_DATE)
    order = {
        "order_id": max(o["order_id"] for o in dataset.orders) + 1,
        "user_id": user["user_id"],
        "created_at": datetime.combine(day, time(12, 0)),
        "updated_at": None,
        "status": status,
        "total_amount": Decimal("1500.00"),
        "currency": currency,
    }
    return Dataset(dataset.users, [*dataset.orders, order])


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def small_dataset() -> Dataset:
    """Generated users and orders; the orders after the last month of the ECB rates
    in seeds/ecb_fx_rates.csv are in the reporting currency, so that a build as of
    today (default_as_of_build) has a rate for every revenue order."""
    users, orders = demo_data.generate(N_USERS, SEED, AS_OF_DATE)
    last_rate_month = max(rate["rate_month"] for rate in read_fx_rates())
    for order in orders:
        if order["created_at"] and order["created_at"].date() >= next_month(last_rate_month):
            order["currency"] = None
    return Dataset(users, orders)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@pytest.fixture(scope="module", params=ENGINES)
def default_as_of_build(
    request, small_dataset, profiles_dir, tmp_path_factory
) -> DefaultAsOfBuild:
    """One build per engine over our own raw schema, without var `ltv_as_of_date`."""
    engine = request.param
    work_dir = tmp_path_factory.mktemp(f"behaviour_{engine}")
    project = LoadedProject(engine, work_dir, small_dataset)
    started_on = utc_today()
    result = project.run(profiles_dir, {})
    assert_succeeded(result)
    return DefaultAsOfBuild(project, built_marts(result), {started_on, utc_today()})


# ---------------------------------------------------------------------- missing rates


@pytest.mark.parametrize(
    "currency, month",
    [("XTS", date(2024, 5, 1)), ("EUR", date(1998, 6, 1))],
    ids=["currency_without_rates", "month_before_first_rate"],
)
def test_revenue_order_without_fx_rate_fails_the_build(
    currency, month, small_dataset, profiles_dir, tmp_path
):
    """Only the fx test fails, and its stored failing rows name currency and month."""
    dataset = with_order_in(small_dataset, currency, month.replace(day=15), "paid")
    project = LoadedProject("duckdb", tmp_path, dataset)
    result = project.run(profiles_dir, FIXED_AS_OF_DATE, "--store-failures")

    assert not result.success
    failed = unsuccessful_nodes(result)
    assert list(failed) == [FX_TEST], dbt_failures(result)
    fx_test = failed[FX_TEST].node
    failing_rows = project.rows(fx_test.schema, fx_test.alias)
    assert len(failing_rows) == 1, failing_rows
    # Whatever the test calls its columns, the row must name the currency and month.
    assert {currency, month} <= set(failing_rows[0].values()), failing_rows


@pytest.mark.parametrize("engine", ENGINES)
def test_a_failing_check_keeps_the_last_good_marts(
    engine, small_dataset, profiles_dir, tmp_path
):
    """The checks that can make the numbers wrong run before the marts: after a good
    build, a revenue order without a rate fails the next build, which rebuilds no
    mart, so every mart keeps exactly the rows of the good build. The raw orders are
    replaced by that one order: a mart rebuilt from them would differ everywhere."""
    project = LoadedProject(engine, tmp_path, small_dataset)
    assert_succeeded(project.run(profiles_dir, FIXED_AS_OF_DATE))
    good = {mart: project.rows(MART_SCHEMA, mart) for mart in MARTS}

    bad = with_order_in(small_dataset, "XTS", date(2024, 5, 15), "paid")
    project.warehouse.execute(
        f"delete from {RAW_SCHEMA}.orders",
        *(
            "insert into {}.orders values ({})".format(
                RAW_SCHEMA,
                ", ".join(
                    "null" if value is None else f"'{value}'"
                    for value in order.values()
                ),
            )
            for order in bad.orders[-1:]
        ),
    )
    result = project.run(profiles_dir, FIXED_AS_OF_DATE)

    assert not result.success
    assert list(unsuccessful_nodes(result)) == [FX_TEST], dbt_failures(result)
    statuses = {
        node_result.node.name: str(node_result.status)
        for node_result in result.result
        if node_result.node.resource_type == "model"
    }
    assert {statuses[mart] for mart in MARTS} == {"skipped"}, statuses
    assert {mart: project.rows(MART_SCHEMA, mart) for mart in MARTS} == good


def test_non_revenue_order_without_fx_rate_passes(
    small_dataset, profiles_dir, tmp_path
):
    """A cancelled order needs no rate: the build passes and order_audit shows it."""
    dataset = with_order_in(small_dataset, "XTS", date(2024, 5, 15), "cancelled")
    project = LoadedProject("duckdb", tmp_path, dataset)
    assert_succeeded(project.run(profiles_dir, FIXED_AS_OF_DATE))

    xts_orders = [
        row for row in project.rows(MART_SCHEMA, "order_audit")
        if row["currency_code"] == "XTS"
    ]
    assert [(row["is_revenue"], row["exclusion_reason"]) for row in xts_orders] == [
        (False, "non_revenue_status")
    ]


# ------------------------------------------------------------------ real raw data


def test_demo_seeds_never_write_where_real_data_lives(default_as_of_build):
    """No relation in the demo schema; the raw schema keeps its tables and rows."""
    project = default_as_of_build.project
    assert project.relations_in(DEMO_SCHEMA) == set()
    assert project.relations_in(RAW_SCHEMA) == {"users", "orders"}
    assert len(project.rows(RAW_SCHEMA, "users")) == len(project.dataset.users)
    assert len(project.rows(RAW_SCHEMA, "orders")) == len(project.dataset.orders)


# ------------------------------------------------------------------- as-of date


def test_default_as_of_date_is_the_utc_day_of_the_build(default_as_of_build):
    """Every row of every mart is as of the UTC day the build ran."""
    project, marts, utc_days = default_as_of_build
    assert {*MARTS, "order_audit"} <= marts
    # The CLV marts are empty without a fit of this source (no fit here).
    for mart in sorted(m for m in marts if not m.startswith("clv_") and m != "user_clv"):
        as_of_dates = {row["as_of_date"] for row in project.rows(MART_SCHEMA, mart)}
        assert len(as_of_dates) == 1 and as_of_dates <= utc_days, (mart, as_of_dates)


# ------------------------------------------------------------------ order audit


def test_every_raw_order_is_in_order_audit(default_as_of_build):
    """Each distinct raw order_id is in order_audit exactly once, and no other id."""
    project = default_as_of_build.project
    raw_order_ids = {order["order_id"] for order in project.dataset.orders}
    audit = project.rows(MART_SCHEMA, "order_audit")
    assert sorted(row["order_id"] for row in audit) == sorted(raw_order_ids)


def test_every_order_is_revenue_or_has_a_reason(default_as_of_build):
    """is_revenue exactly when there is no exclusion_reason; both kinds occur."""
    audit = default_as_of_build.project.rows(MART_SCHEMA, "order_audit")
    unexplained = [row for row in audit if not is_explained(row)]
    assert unexplained == []
    assert {row["is_revenue"] for row in audit} == {True, False}


def test_audit_test_names_every_broken_order(default_as_of_build):
    """assert_every_raw_order_is_accounted_for holds all of the per-order checks:
    run on a copy of int_orders_classified (what order_audit shows) broken six ways,
    it returns exactly the six broken orders, each with its problem (and none on the
    intact rows)."""
    project = default_as_of_build.project
    classified = f"{MART_SCHEMA}_intermediate.int_orders_classified"
    audit = sorted(project.rows(MART_SCHEMA, "order_audit"), key=lambda r: r["order_id"])
    excluded = [row["order_id"] for row in audit if not row["is_revenue"]]
    revenue = [row["order_id"] for row in audit if row["is_revenue"]]
    typo, unexplained, twice, missing = excluded[:4]
    invented = audit[-1]["order_id"] + 1000
    broken = f"{MART_SCHEMA}_intermediate.broken_orders_classified"
    expected = {
        typo: "exclusion reason not accepted",
        revenue[0]: "revenue with an exclusion reason",
        unexplained: "neither revenue nor excluded with a reason",
        twice: "order id more than once in int_orders_classified",
        missing: "raw order missing from int_orders_classified",
        invented: "classified order without a raw order",
    }
    test_sql = (
        project.work_dir / "target" / "compiled" / "ltv" / "tests" / "reconciliation"
        / "assert_every_raw_order_is_accounted_for.sql"
    ).read_text()
    assert test_sql.count('"int_orders_classified"') == 1
    project.warehouse.execute(
        f"create table {broken} as select * from {classified}",
        f"update {broken} set exclusion_reason = 'typo' where order_id = {typo}",
        f"update {broken} set exclusion_reason = 'non_revenue_status'"
        f" where order_id = {revenue[0]}",
        f"update {broken} set exclusion_reason = null where order_id = {unexplained}",
        f"insert into {broken} select * from {classified} where order_id = {twice}",
        f"update {broken} set order_id = {invented} where order_id = {missing}",
    )
    try:
        found = project.warehouse.query_table(
            test_sql.replace('"int_orders_classified"', '"broken_orders_classified"')
        ).rows
    finally:
        project.warehouse.execute(f"drop table {broken}")
    assert {row["order_id"]: row["problem"] for row in found} == expected
    assert len(found) == len(expected)


def test_user_ltv_revenue_is_the_revenue_of_order_audit(default_as_of_build):
    """Lifetime revenue of user_ltv = amount_usd of the revenue orders, exactly."""
    project = default_as_of_build.project
    audit = project.rows(MART_SCHEMA, "order_audit")
    user_ltv = project.rows(MART_SCHEMA, "user_ltv")
    audited_revenue = exact_sum(row["amount_usd"] for row in audit if row["is_revenue"])
    assert audited_revenue > 0
    assert exact_sum(row["revenue_lifetime"] for row in user_ltv) == audited_revenue


def test_no_hook_relies_on_set_local():
    """dbt runs hooks outside a transaction block: PostgreSQL ignores `set local`
    there with a warning, and a model meant to run without JIT ran with it (clv_backtest
    spent 110 s compiling a plan that runs in 0.2 s). Hooks set session settings that
    every table's pre-hook sets or resets (macros/postgres/ltv_postgres_tuning.sql)."""
    offenders = [
        f"{path.relative_to(PROJECT_DIR)}:{number}"
        for pattern in ("models/**/*.sql", "macros/**/*.sql", "dbt_project.yml")
        for path in PROJECT_DIR.glob(pattern)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "set local" in line.lower() and "`set local`" not in line
    ]
    assert not offenders, f"`set local` in a hook does nothing: {offenders}"
