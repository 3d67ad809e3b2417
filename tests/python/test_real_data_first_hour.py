"""Issue #18: a shop's first hour with its own tables, on DuckDB and PostgreSQL.

The dataset is not the demo's: its own raw schema, other channels (`'Organic '` and
`newsletter`), statuses (`Delivered`, `partially_refunded`) and currencies (CHF, JPY).
Nothing may be silently wrong: no demo CAC or demo FX rate reaches it, the unknown
statuses are named with their counts, channels compare as lower(trim()), a future
as-of date is refused naming the var, and raw tables without the expected columns
stop the build with one message. And the friction of that hour: each layer in a
schema of its own, analyses and freshness thresholds from vars, and on PostgreSQL a
build by a user who may not create roles.
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
STALE_RAW_SCHEMA = "ltv_pytest_raw_stale"
UNKNOWN_STATUSES = {"delivered": "Delivered", "partially_refunded": "partially_refunded"}


def shop_dataset() -> Dataset:
    """Generated rows, recoloured: channels, statuses and currencies of another shop."""
    users, orders = demo_data.generate(N_USERS, SEED, AS_OF_DATE)
    channels = ["Organic ", "organic", "newsletter", None, "Partner"]
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
    assert project.rows(f"{project.warehouse.schema}_staging", "channel_cac") == []


def test_no_demo_fx_rate_reaches_the_shop(first_build):
    project, _, _ = first_build
    rates = project.rows(f"{project.warehouse.schema}_staging", "fx_rates")
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


def test_channels_compare_trimmed_and_in_lower_case(first_build):
    project, _, _ = first_build
    rows = project.rows(project.warehouse.schema, "ltv_by_channel")
    horizons = {row["horizon"] for row in rows}
    assert len(horizons) == 4
    for horizon in horizons:
        channels = [row["acquisition_channel"] for row in rows if row["horizon"] == horizon]
        assert sorted(channels) == ["newsletter", "organic", "partner", "unknown"]


def test_each_layer_has_a_schema_of_its_own(first_build):
    project, _, _ = first_build
    schema = project.warehouse.schema
    marts = project.relations_in(schema)
    assert {"user_ltv", "order_audit", "ltv_summary"} <= marts
    assert not {name for name in marts if name.startswith(("stg_", "int_"))}
    staging = project.relations_in(f"{schema}_staging")
    assert {"stg_shop__orders", "stg_shop__users", "fx_rates", "channel_cac"} <= staging
    intermediate = project.relations_in(f"{schema}_intermediate")
    assert "int_orders_classified" in intermediate
    assert all(name.startswith("int_") for name in intermediate)


def test_analyses_take_their_user_and_dates_from_vars(first_build, profiles_dir):
    project, _, _ = first_build
    users = project.rows(project.warehouse.schema, "user_ltv")
    user = max(users, key=lambda row: (row["revenue_lifetime"], row["user_id"]))
    cohort = user["signup_date"].replace(day=1)
    result = project.run(
        profiles_dir,
        {
            "ltv_as_of_date": AS_OF_DATE.isoformat(),
            "ltv_user_id": user["user_id"],
            "ltv_cohorts_from": cohort.isoformat(),
            "ltv_cohorts_to": cohort.replace(year=cohort.year + 1).isoformat(),
        },
        "--select", "one_user_ltv", "cohort_ltv_curves",
        command=("compile",),
    )
    assert result.success, dbt_failures(result)
    compiled = project.work_dir / "target" / "compiled" / "ltv" / "analyses"
    one_user = project.warehouse.query_table(
        (compiled / "one_user_ltv.sql").read_text()
    )
    assert [row["user_id"] for row in one_user.rows] == [user["user_id"]]
    curves = project.warehouse.query_table(
        (compiled / "cohort_ltv_curves.sql").read_text()
    )
    assert curves.rows


def test_freshness_thresholds_are_vars(first_build, profiles_dir):
    """Raw rows that end on the as-of date, months ago: an error after the default
    3 days, a pass once the shop's thresholds allow that age."""
    project, _, _ = first_build
    as_of = f"cast('{AS_OF_DATE.isoformat()}' as timestamp)"
    project.warehouse.execute(
        f"create schema {STALE_RAW_SCHEMA}",
        f"create table {STALE_RAW_SCHEMA}.users as select * from {RAW_SCHEMA}.users"
        f" where created_at < {as_of}",
        f"create table {STALE_RAW_SCHEMA}.orders as select * from {RAW_SCHEMA}.orders"
        f" where created_at < {as_of} and coalesce(updated_at, created_at) < {as_of}",
    )

    def freshness(**thresholds) -> set:
        result = project.run(
            profiles_dir, {"ltv_source_schema": STALE_RAW_SCHEMA, **thresholds},
            "--select", "source:shop", command=("source", "freshness"),
        )
        return {
            str(node.status) for node in result.result
            if node.node.unique_id.startswith("source.")
        }

    try:
        assert freshness() == {"error"}
        assert freshness(
            ltv_freshness_warn_after_days=36500, ltv_freshness_error_after_days=73000
        ) == {"pass"}
    finally:
        project.warehouse.execute(f"drop schema {STALE_RAW_SCHEMA} cascade")


# Roles and grants are PostgreSQL's.
@pytest.mark.parametrize("first_build", ["postgres"], indirect=True)
def test_a_user_who_may_not_create_roles_builds_with_a_warning(
    first_build, profiles_dir
):
    """Grants to a missing analyst role the build's user may not create are a
    warning naming the role, not a failed build; once an administrator creates the
    role, the same user's build grants it the marts."""
    project, _, _ = first_build
    suffix = project.warehouse.database.lower()
    builder, analyst = f"{suffix}_builder", f"{suffix}_analyst"
    schema = "ltv_first_hour_builder"
    project.warehouse.execute(
        f"drop schema if exists {schema} cascade",
        f"drop schema if exists {schema}_staging cascade",
        f"drop schema if exists {schema}_intermediate cascade",
        f"drop role if exists {analyst}",
        f"drop owned by {builder}" if role_exists(project, builder) else "select 1",
        f"drop role if exists {builder}",
        f"create role {builder} login nocreaterole",
        f"grant create on database {project.warehouse.database} to {builder}",
        f"grant usage on schema {RAW_SCHEMA} to {builder}",
        f"grant select on all tables in schema {RAW_SCHEMA} to {builder}",
    )
    dbt_vars = {"ltv_as_of_date": AS_OF_DATE.isoformat(), "ltv_analyst_role": analyst}
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("PGUSER", builder)
            env.setattr(project.warehouse, "schema", schema)
            (project.work_dir / "logs" / "dbt.log").unlink(missing_ok=True)
            without_role = project.run(profiles_dir, dbt_vars)
            assert without_role.success, dbt_failures(without_role)
            warning = f"role {analyst} (var ltv_analyst_role) does not exist"
            assert warning in log_text(project)
            project.warehouse.execute(f"create role {analyst} nologin")
            with_role = project.run(profiles_dir, dbt_vars)
            assert with_role.success, dbt_failures(with_role)
        (granted,) = project.warehouse.query_table(
            f"select has_table_privilege('{analyst}', '{schema}.user_ltv', 'select')"
            f" and has_schema_privilege('{analyst}', '{schema}', 'usage') as granted"
        ).rows
        assert granted["granted"]
    finally:
        project.warehouse.execute(
            f"drop owned by {builder}", f"drop role {builder}",
            f"drop role if exists {analyst}",
        )


def role_exists(project, role: str) -> bool:
    rows = project.warehouse.query_table(
        f"select count(*) as n from pg_catalog.pg_roles where rolname = '{role}'"
    ).rows
    return rows[0]["n"] > 0
