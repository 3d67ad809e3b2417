"""`make fit-clv` as the README writes it, run verbatim on DuckDB and PostgreSQL.

The README's command (section "Predicted CLV") runs in a shell in the project
directory, its raw schema `shop_raw` loaded with generated users (their rows up to
the pytest dataset's as-of date, which the FX rate seeds cover) and its warehouse
chosen by the profile's environment (DuckDB: the same command with
DBT_TARGET=duckdb). It must print only the fits, each parameter with its unit; store
the scoring fit (as of today, the vars having no as-of date) and the backtest's
calibration fit (var ltv_clv_backtest_holdout_days earlier) in the fit table, whose
freshness then passes; publish no mart; and the next build must score with both:
user_clv and clv_backtest filled, and no warning about a missing fit.
"""

import datetime
import json
import re
import subprocess

import pytest

from conftest import AS_OF_DATE, MART_SCHEMA, POSTGRES_DATABASE, make_warehouse
from harness import PROJECT_DIR
from harness.datasets import Dataset, generated_dataset
from harness.dbt_runs import run_dbt
from test_user_clv_matches_lifetimes import read_pending

RAW_SCHEMA = "shop_raw"
USERS = 1500
HOLDOUT_DAYS = 273  # var ltv_clv_backtest_holdout_days, as dbt_project.yml sets it
PARAMETER_LINE = re.compile(
    r"^    (r|alpha|a|b|p|q|v) +[0-9.e+-]+ (days|USD)? ?\(.+\)$"
)


def readme_command(target: str) -> str:
    """The README's `make fit-clv ...` command, on `target`."""
    readme = (PROJECT_DIR / "README.md").read_text()
    section = readme.split("## Predicted CLV", 1)[1].split("\n## ", 1)[0]
    command = re.search(r"`(make fit-clv [^`]+)`", section).group(1)
    assert "DBT_TARGET=postgres" in command
    return command.replace("DBT_TARGET=postgres", f"DBT_TARGET={target}")


def rows_before(rows: list, day: datetime.date) -> list:
    return [row for row in rows
            if row["created_at"] is None or row["created_at"].date() < day]


def shop_data() -> Dataset:
    """Generated users and orders, none created on or after AS_OF_DATE."""
    dataset = generated_dataset(USERS, 11, AS_OF_DATE)
    return Dataset(rows_before(dataset.users, AS_OF_DATE),
                   rows_before(dataset.orders, AS_OF_DATE))


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def fitted(request, tmp_path_factory):
    engine = request.param
    work_dir = tmp_path_factory.mktemp(f"fit_command_{engine}")
    warehouse = make_warehouse(engine, work_dir, POSTGRES_DATABASE + "_fit_command")
    warehouse.raw_schema = RAW_SCHEMA
    as_of = datetime.datetime.now(datetime.timezone.utc).date()
    warehouse.load_raw(shop_data())
    # As typed at a shell: under `make test` the inherited MAKELEVEL would make
    # the README's make print "Entering directory" lines.
    env = {name: value for name, value in warehouse.env().items()
           if name not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    env |= {"DBT_TARGET_PATH": str(work_dir / "target"), "DBT_LOG_PATH": str(work_dir / "logs")}
    process = subprocess.run(
        ["bash", "-c", readme_command(engine)], cwd=PROJECT_DIR, env=env,
        capture_output=True, text=True, timeout=600,
    )
    assert process.returncode == 0, process.stdout + process.stderr
    published_after_fit = [
        row[0] for row in warehouse.query(
            "select table_name from information_schema.tables where table_schema = "
            f"'{MART_SCHEMA}'"
        )
    ]
    dbt_vars = json.dumps({"ltv_source_schema": RAW_SCHEMA})
    freshness = run_dbt(["source", "freshness", "--select", "source:clv",
                         "--target", engine, "--vars", dbt_vars],
                        warehouse.env(), work_dir, "freshness")
    build = run_dbt(["build", "--select", "+user_clv", "+clv_backtest",
                     "--indirect-selection", "cautious", "--exclude-resource-type",
                     "unit_test", "--target", engine, "--vars", dbt_vars],
                    warehouse.env(), work_dir, "build")
    result = {
        "engine": engine, "as_of": as_of, "output": process.stdout,
        "errors": process.stderr, "published_after_fit": published_after_fit,
        "fits": warehouse.query_table(
            "select * from ltv_clv.clv_fits order by fitted_as_of_date, model, parameter"
        ).rows,
        "freshness": freshness, "build": build,
        "user_clv": read_pending(warehouse, "user_clv"),
        "clv_backtest": read_pending(warehouse, "clv_backtest"),
    }
    warehouse.drop_database()
    return result


def test_it_prints_the_fits_with_their_units_and_nothing_else(fitted):
    lines = fitted["output"].splitlines()
    as_of = fitted["as_of"]
    calibration = as_of - datetime.timedelta(days=HOLDOUT_DAYS)
    headers = [line for line in lines if not line.startswith(" ")]
    assert headers == [f"Scoring fit as of {as_of}", f"Calibration fit as of {calibration}"]
    models = [line for line in lines if line.startswith("  ") and not line.startswith("   ")]
    assert len(models) == 4 and all(
        re.match(r"^  (bg_nbd|gamma_gamma): \d+ customers, log-likelihood -[0-9.]+$", line)
        for line in models), models
    parameters = [line for line in lines if line.startswith("    ")]
    assert len(parameters) == 14 and all(PARAMETER_LINE.match(line) for line in parameters)
    assert [line for line in parameters if line.split()[0] == "alpha"][0].split()[2] == "days"
    assert [line for line in parameters if line.split()[0] == "v"][0].split()[2] == "USD"
    assert len(lines) == len(headers) + len(models) + len(parameters)
    assert fitted["errors"] == ""


def test_it_stores_both_fits_and_publishes_no_mart(fitted):
    fits = fitted["fits"]
    dates = {row["fitted_as_of_date"] for row in fits}
    as_of = fitted["as_of"]
    assert dates == {as_of, as_of - datetime.timedelta(days=HOLDOUT_DAYS)}
    assert len(fits) == 14
    assert {row["source_identity"].split(":")[-1] for row in fits} == {RAW_SCHEMA}
    # Only pending marts and the build log (which records the fit's build as not
    # published): no mart.
    assert not [name for name in fitted["published_after_fit"]
                if not name.endswith("__pending") and name != "ltv_builds"]


def test_the_fit_tables_freshness_passes(fitted):
    run = fitted["freshness"]
    assert run.returncode == 0, run.output[-3000:]
    assert "PASS" in run.output


def test_the_next_build_scores_and_backtests_with_it(fitted):
    run = fitted["build"]
    assert run.returncode == 0, run.output[-3000:]
    assert "make fit-clv" not in run.output
    assert len(fitted["user_clv"]) > 0
    total = [row for row in fitted["clv_backtest"] if row["frequency_bin"] == "total"]
    assert len(total) == 1 and total[0]["expected_repeat_purchases"] > 0
