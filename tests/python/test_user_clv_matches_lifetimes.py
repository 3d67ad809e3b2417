"""user_clv and clv_model_parameters equal lifetimes 0.11.3 itself on full CDNOW.

On the CDNOW transactions shipped with lifetimes (23,570 customers) observed to
1997-09-30 (as-of date 1997-10-01), per engine: build user_rfm, fit with `make
fit-clv`'s script (scripts/fit_clv.py), build the CLV marts. The parameters must equal
lifetimes' own fits (BetaGeoFitter, GammaGammaFitter, penalizer 0) to 1e-3 relative,
and the script's fit of user_rfm's own rows; given the project's parameters,
lifetimes' five predictions of every user must equal user_clv's to 1e-6 relative.
The builds here select a subset, which never publishes: the tests read the pending
marts the builds left (read_pending). lifetimes runs in its own venv
(clv_lifetimes_reference.py, lifetimes_reference.py). The same warehouse shows the
refusals: before the fit user_clv is empty and the build names `make fit-clv`; a fit
of another source is never used; a fit too old for the as-of date warns.
"""

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from dbt.cli.main import dbtRunner

from conftest import MART_SCHEMA, RAW_SCHEMA, make_warehouse
from harness import PROJECT_DIR
from harness.datasets import Dataset
from test_user_rfm_matches_lifetimes import LIFETIMES_PYTHON, read_csv

sys.path.insert(0, str(PROJECT_DIR / "scripts"))
import fit_clv  # noqa: E402

AS_OF = "1997-10-01"
HERE = Path(__file__).parent
PARAMETER_TOLERANCE = 1e-3
PREDICTION_TOLERANCE = 1e-6
COLUMNS = (
    "probability_alive", "expected_purchases_90d", "expected_purchases_365d",
    "expected_order_value", "predicted_clv_12m",
)


def lifetimes(*args):
    process = subprocess.run(
        [str(LIFETIMES_PYTHON), *map(str, args)], capture_output=True, text=True
    )
    assert process.returncode == 0, process.stderr


@pytest.fixture(scope="module")
def cdnow_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cdnow_clv")
    lifetimes(HERE / "lifetimes_reference.py", out, AS_OF)
    lifetimes(HERE / "clv_lifetimes_reference.py", "fit",
              out / f"summary_{AS_OF}.csv", out / "lifetimes_params.json")
    return out


def read_pending(warehouse, name):
    """The rows of the pending table of a mart, which a build that selects a subset
    leaves instead of publishing (macros/publish/ltv_pending.sql)."""
    if warehouse.target == "postgres":
        return warehouse.read_table(f"{MART_SCHEMA}_pending", name).rows
    return warehouse.read_table(MART_SCHEMA, f"{name}__pending").rows


def invoke(args, common):
    """dbt in-process; (success, messages of the warnings and infos it logged)."""
    messages = []

    def collect(event):
        if event.info.level in ("warn", "info"):
            messages.append(event.info.msg)

    result = dbtRunner(callbacks=[collect]).invoke([*args, *common])
    assert result.success, f"dbt {args} failed: {result.exception}"
    return messages


# The fit's choice and its warnings live in int_clv_fit_chosen; the mart publishes it.
FIT_CHOICE = ("int_clv_fit_chosen", "clv_model_parameters")


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def built(request, cdnow_dir, profiles_dir, tmp_path_factory):
    engine = request.param
    work_dir = tmp_path_factory.mktemp(f"clv_{engine}")
    warehouse = make_warehouse(engine, work_dir)
    warehouse.load_raw(Dataset(read_csv(cdnow_dir / "users.csv"),
                               read_csv(cdnow_dir / "orders.csv")))
    dbt_vars = {"ltv_source_schema": RAW_SCHEMA, "ltv_as_of_date": AS_OF}
    common = [
        "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(profiles_dir),
        "--target", engine,
    ]
    result = {}
    with pytest.MonkeyPatch.context() as env:
        for name, value in warehouse.dbt_env().items():
            env.setenv(name, value)
        env.setenv("DBT_TARGET_PATH", str(work_dir / "target"))
        env.setenv("DBT_LOG_PATH", str(work_dir / "logs"))
        vars_args = ["--vars", json.dumps(dbt_vars)]
        # Before any fit: the marts build, user_clv empty, the warning names the fix.
        result["unfitted_messages"] = invoke(
            ["build", "--select", "+user_clv", "--indirect-selection", "cautious",
             "--exclude-resource-type", "unit_test", *vars_args], common)
        result["unfitted_rows"] = read_pending(warehouse, "user_clv")
        result["user_rfm"] = read_pending(warehouse, "user_rfm")
        fit_clv.main([*common[:4], "--target", engine, "--vars", json.dumps(dbt_vars)])
        # Again with user_rfm: a subset build reads only the marts it builds.
        invoke(["build", "--select", "+user_clv", "--indirect-selection", "cautious",
                "--exclude-resource-type", "unit_test", *vars_args], common)
        result["parameters"] = read_pending(warehouse, "clv_model_parameters")
        result["user_clv"] = read_pending(warehouse, "user_clv")
        # Another source: the fit of RAW_SCHEMA is not its own.
        other = {**dbt_vars, "ltv_source_schema": "another_raw"}
        warehouse.execute(
            "create schema another_raw",
            *(f"create table another_raw.{table} as "
              f"select * from {RAW_SCHEMA}.{table} where 1 = 0"
              for table in ("users", "orders")),
        )
        result["other_messages"] = invoke(
            ["build", "--select", *FIT_CHOICE, "--vars", json.dumps(other)],
            common)
        result["other_rows"] = read_pending(warehouse, "clv_model_parameters")
        # 61 days later: the fit of 1997-10-01 is used, with a warning.
        later = {**dbt_vars, "ltv_as_of_date": "1997-12-01"}
        result["stale_messages"] = invoke(
            ["build", "--select", *FIT_CHOICE, "--vars", json.dumps(later)],
            common)
        result["stale_rows"] = read_pending(warehouse, "clv_model_parameters")
    return result


def parameters_of(rows):
    return {row["parameter"]: row["value"] for row in rows}


def test_without_a_fit_user_clv_is_empty_and_the_build_says_why(built):
    assert built["unfitted_rows"] == []
    assert any("make fit-clv" in message and "user_clv is empty" in message
               for message in built["unfitted_messages"]), built["unfitted_messages"]


def test_parameters_equal_lifetimes(built, cdnow_dir):
    expected = json.loads((cdnow_dir / "lifetimes_params.json").read_text())
    actual = parameters_of(built["parameters"])
    assert set(actual) == set(expected)
    wrong = {name: (expected[name], actual[name]) for name in expected
             if not math.isclose(actual[name], expected[name],
                                 rel_tol=PARAMETER_TOLERANCE)}
    assert not wrong, f"(lifetimes, project) differ: {wrong}"
    customers = {row["model"]: row["fitted_customers"] for row in built["parameters"]}
    assert customers["bg_nbd"] == 23570
    assert {row["fitted_as_of_date"].isoformat() for row in built["parameters"]} == {
        AS_OF}


def test_the_fit_is_that_of_user_rfms_rows(built):
    """The script reads its own grouped rows, not user_rfm: they are user_rfm's."""
    rows = built["user_rfm"]
    bg = fit_clv.fit_bg_nbd(*(
        [float(row[column]) for row in rows] for column in ("frequency", "recency", "t")
    ))
    repeat = [row for row in rows if row["frequency"] > 0 and row["monetary_value"] > 0]
    gg = fit_clv.fit_gamma_gamma(
        [float(row["frequency"]) for row in repeat],
        [float(row["monetary_value"]) for row in repeat],
    )
    stored = {(row["model"], row["parameter"]): row for row in built["parameters"]}
    for fit in (bg, gg):
        for name, value in fit.parameters.items():
            row = stored[(fit.model, name)]
            assert math.isclose(row["value"], value, rel_tol=1e-6), (fit.model, name)
            assert row["fitted_customers"] == fit.customers
            assert math.isclose(row["log_likelihood"], fit.log_likelihood, rel_tol=1e-12)


def test_every_prediction_equals_lifetimes_given_the_same_parameters(
    built, cdnow_dir, tmp_path
):
    params_path = tmp_path / "params.json"
    params_path.write_text(json.dumps(parameters_of(built["parameters"])))
    out = tmp_path / "predictions.csv"
    lifetimes(HERE / "clv_lifetimes_reference.py", "predict",
              cdnow_dir / f"summary_{AS_OF}.csv", params_path, out)
    expected = pd.read_csv(out).set_index("user_id")
    actual = {row["user_id"]: row for row in built["user_clv"]}
    assert set(actual) == set(expected.index)
    problems = []
    for column in COLUMNS:
        wrong = [
            (user, want, actual[user][column])
            for user, want in expected[column].items()
            if not math.isclose(actual[user][column], want,
                                rel_tol=PREDICTION_TOLERANCE, abs_tol=1e-12)
        ]
        if wrong:
            problems.append(f"{column}: {len(wrong)} users differ, e.g. {wrong[:5]}")
    assert not problems, "\n".join(problems)


def test_another_sources_fit_is_never_used(built):
    assert built["other_rows"] == []
    assert any("make fit-clv" in message for message in built["other_messages"])


def test_a_stale_fit_warns(built):
    assert len(built["stale_rows"]) == 7
    assert any("older than the as-of date" in message and "make fit-clv" in message
               for message in built["stale_messages"]), built["stale_messages"]
