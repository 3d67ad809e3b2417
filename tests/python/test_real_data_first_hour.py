"""Issue #18: a shop's first hour with its own tables, on DuckDB and PostgreSQL.

The dataset is not the demo's: its own raw schema, other channels (`'Organic '` and
`newsletter`), statuses (`Delivered`, `partially_refunded`) and currencies (CHF, JPY).
Nothing may be silently wrong: no demo CAC or demo FX rate reaches it, the unknown
statuses are named with their counts, a future as-of date is refused naming the var,
and raw tables without the expected columns stop the build with one message.
"""

import re
from datetime import date

import pytest

import demo_data
from conftest import AS_OF_DATE, RAW_SCHEMA
from harness.datasets import Dataset
from harness.dbt_runs import dbt_failures
from test_project_behaviour import LoadedProject

N_USERS = 300
SEED = 23
OTHER_RAW_SCHEMA = "ltv_pytest_raw_amount"
UNKNOWN_STATUSES = {"delivered": "Delivered", "partially_refunded": "partially_refunded"}


def shop_dataset() -> Dataset:
    """Generated rows, recoloured: channels, statuses and currencies of another shop."""
    users, orders = demo_data.generate(N_USERS, SEED, AS_OF_DATE)
    channels = ["Organic ", "newsletter", None, "Partner"]
    users = [
        {**user, "acquisition_channel": channels[index % len(channels)]}
        for index, user in enumerate(users)
    ]
    statuses = list(UNKNOWN_STATUSES.values())
    currencies = ["CHF", " jpy", None, "USD"]
    recoloured = []
    for index, order in enumerate(orders):
        order = {**order, "currency": currencies[index % len(currencies)]}
        if index % 17 == 0:
            order["status"] = statuses[(index // 17) % len(statuses)]
        recoloured.append(order)
    return Dataset(users, recoloured)


def log_text(project: LoadedProject) -> str:
    return (project.work_dir / "logs" / "dbt.log").read_text()


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def first_build(request, tmp_path_factory, profiles_dir):
    dataset = shop_dataset()
    project = LoadedProject(
        request.param, tmp_path_factory.mktemp(f"first_hour_{request.param}"), dataset
    )
    result = project.run(profiles_dir, {"ltv_as_of_date": AS_OF_DATE.isoformat()})
    return project, dataset, result


def test_build_passes_on_the_shop_tables(first_build):
    _, _, result = first_build
    assert result.success, dbt_failures(result)


def test_no_demo_cac_reaches_the_shop(first_build):
    project, _, _ = first_build
    rows = project.rows(project.warehouse.schema, "ltv_by_channel")
    assert rows and all(row["cac"] is None for row in rows)
    assert all(row["ltv_to_cac"] is None for row in rows)
    assert project.rows(project.warehouse.schema, "channel_cac") == []


def test_no_demo_fx_rate_reaches_the_shop(first_build):
    project, _, _ = first_build
    rates = project.rows(project.warehouse.schema, "fx_rates")
    assert {row["rate_source"] for row in rates} == {"ecb_fx_rates"}
    chf = {row["rate_month"]: row["usd_per_unit"] for row in rates if row["currency"] == "CHF"}
    assert min(chf) == date(1999, 1, 1)
    # ECB 2025-01: USD/EUR and CHF/EUR averages give about 1.10 USD per franc.
    assert 1.0 < float(chf[date(2025, 1, 1)]) < 1.2
    assert "EUR" in {row["currency"] for row in rates}


def test_unknown_statuses_are_named_with_their_counts(first_build):
    project, dataset, _ = first_build
    log = log_text(project)
    for normalized, raw in UNKNOWN_STATUSES.items():
        orders = len({o["order_id"] for o in dataset.orders if o["status"] == raw})
        assert orders > 0
        assert f"'{normalized}' ({orders} orders)" in log, normalized
    assert "var ltv_known_statuses" in log


def test_known_statuses_var_drives_the_check(first_build, profiles_dir):
    project, dataset, _ = first_build
    revenue = {"paid", "shipped", "completed"}
    known = sorted(
        {(o["status"] or "").strip().lower() for o in dataset.orders if o["status"]}
        - revenue
    )
    (project.work_dir / "logs" / "dbt.log").unlink()
    result = project.run(
        profiles_dir,
        {"ltv_as_of_date": AS_OF_DATE.isoformat(), "ltv_known_statuses": known},
        "--select", "stg_shop__orders",
    )
    assert result.success, dbt_failures(result)
    assert "unknown order status" not in log_text(project)
    statuses = {r.node.name: r.status for r in result.result}
    accepted = [name for name in statuses if name.startswith("accepted_values_stg_shop")]
    assert accepted and all(statuses[name] == "pass" for name in accepted)


def test_future_as_of_date_is_refused(first_build, profiles_dir):
    project, _, _ = first_build
    result = project.run(profiles_dir, {"ltv_as_of_date": "2999-06-01"})
    assert not result.success
    assert re.search(r"var ltv_as_of_date is 2999-06-01, after the day", dbt_failures(result))


def test_raw_table_without_the_columns_stops_the_build_with_one_message(
    first_build, profiles_dir
):
    project, _, _ = first_build
    # A shop whose orders call the amount `amount` and have no currency.
    project.warehouse.execute(
        f"create schema {OTHER_RAW_SCHEMA}",
        f"create table {OTHER_RAW_SCHEMA}.users as select * from {RAW_SCHEMA}.users",
        f"create table {OTHER_RAW_SCHEMA}.orders as select order_id, user_id,"
        f" created_at, updated_at, status, total_amount as amount"
        f" from {RAW_SCHEMA}.orders",
    )
    try:
        result = project.run(
            profiles_dir,
            {
                "ltv_as_of_date": AS_OF_DATE.isoformat(),
                "ltv_source_schema": OTHER_RAW_SCHEMA,
            },
        )
        message = dbt_failures(result)
        assert not result.success
        assert "missing column total_amount; missing column currency" in message
        assert "the project expects: order_id (integer or text)" in message
        assert "amount " in message.split("it found:")[1]
    finally:
        project.warehouse.execute(f"drop schema {OTHER_RAW_SCHEMA} cascade")
