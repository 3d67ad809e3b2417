"""clv_backtest on the CDNOW 1/10 sample: the papers' holdout check.

Fader, Hardie and Lee (2005): BG/NBD fitted on weeks 1-39 (to 1997-09-30) of the
CDNOW sample (2,357 customers) expects about 1,653 repeat purchases in weeks 40-78
(1997-10-01 to 1998-06-30). Here: the sample as raw tables; clv_backtest as of
1998-07-01 before any fit (empty, with a warning naming the command); `make
fit-clv`'s script as of 1998-07-01, which also fits the calibration period to
1997-10-01 (the default holdout of 273 days, 39 weeks); clv_backtest again. The
builds select a subset: the tests read the pending mart (read_pending).

The backtest's measures (spec, "Backtest measures"): clv_backtest_measures and
clv_backtest_deciles equal, column by column, an independent computation from
lifetimes 0.11.3 (calibration_and_holdout_data; the expected purchases and order
value of the same fit's parameters) and plain Python over the same transactions:
on CDNOW (the sample's own) and on the demo (its revenue orders from the raw seeds
by the Python reference, with the demo's committed calibration fit). Doubles to
1e-9 relative, counts exactly.
"""

import csv
import json
import math
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from dbt.cli.main import dbtRunner

import reference
from conftest import MART_SCHEMA, RAW_SCHEMA, read_fx_rates
from harness import PROJECT_DIR
from harness.datasets import Dataset
from harness.warehouses import DuckDbWarehouse
from test_user_clv_matches_lifetimes import HERE, fit_clv, lifetimes, read_pending
from test_user_rfm_matches_lifetimes import read_csv

HOLDOUT_DAYS = 273  # var ltv_clv_backtest_holdout_days, as dbt_project.yml sets it
BACKTEST_MARTS = ("clv_backtest", "clv_backtest_measures", "clv_backtest_deciles")
TOLERANCE = 1e-9
CDNOW = {"as_of": date(1998, 7, 1), "calibration_end": date(1997, 10, 1)}
DEMO = {"as_of": date(2026, 7, 1), "calibration_end": date(2025, 10, 1)}


@pytest.fixture(scope="module")
def backtest(profiles_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("cdnow_sample_raw")
    lifetimes(HERE / "clv_lifetimes_reference.py", "sample-raw", out)
    work_dir = tmp_path_factory.mktemp("backtest")
    warehouse = DuckDbWarehouse(work_dir, MART_SCHEMA, RAW_SCHEMA)
    warehouse.load_raw(Dataset(read_csv(out / "users.csv"), read_csv(out / "orders.csv")))
    common = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(profiles_dir),
              "--target", "duckdb"]
    later = {"ltv_source_schema": RAW_SCHEMA, "ltv_as_of_date": "1998-07-01"}
    build = ["build", "--select", *(f"+{mart}" for mart in BACKTEST_MARTS),
             "--indirect-selection", "cautious",
             "--exclude-resource-type", "unit_test", "--vars", json.dumps(later), *common]
    result = {}
    with pytest.MonkeyPatch.context() as env:
        for name, value in warehouse.dbt_env().items():
            env.setenv(name, value)
        env.setenv("DBT_TARGET_PATH", str(work_dir / "target"))
        env.setenv("DBT_LOG_PATH", str(work_dir / "logs"))
        messages = []
        collect = dbtRunner(callbacks=[lambda event: messages.append(event.info.msg)])
        assert collect.invoke(build).success
        result["unfitted_rows"] = {
            mart: read_pending(warehouse, mart) for mart in BACKTEST_MARTS}
        result["unfitted_messages"] = messages
        fit_clv.main([*common, "--vars", json.dumps(later)])
        assert dbtRunner().invoke(build).success
    result["bins"] = {row["frequency_bin"]: row
                      for row in read_pending(warehouse, "clv_backtest")}
    result["measures"] = read_pending(warehouse, "clv_backtest_measures")
    result["deciles"] = read_pending(warehouse, "clv_backtest_deciles")
    fits = [row for row in warehouse.read_table("ltv_clv", "clv_fits").rows
            if row["fitted_as_of_date"] == CDNOW["calibration_end"]]
    newest = max(row["fitted_at"] for row in fits)
    result["parameters"] = {row["parameter"]: row["value"]
                            for row in fits if row["fitted_at"] == newest}
    return result


def test_without_a_calibration_fit_it_is_empty_and_says_why(backtest):
    assert backtest["unfitted_rows"] == dict.fromkeys(BACKTEST_MARTS, [])
    assert any("clv_backtest is empty" in message and "make fit-clv" in message
               for message in backtest["unfitted_messages"])


def test_total_matches_the_paper(backtest):
    total = backtest["bins"]["total"]
    assert total["customers"] == 2357
    # Purchase days (the paper counts 1,788 transactions on its own terms).
    assert total["actual_repeat_purchases"] == 1882
    assert abs(total["expected_repeat_purchases"] - 1653) < 1, total


def test_bins_add_up_to_the_total(backtest):
    backtest = backtest["bins"]
    bins = [row for name, row in backtest.items() if name != "total"]
    assert sorted(row["frequency_bin"] for row in bins) == [
        "0", "1", "2", "3", "4", "5", "6", "7+"]
    for column in ("customers", "actual_repeat_purchases"):
        assert sum(row[column] for row in bins) == backtest["total"][column]
    assert sum(row["expected_repeat_purchases"] for row in bins) == pytest.approx(
        backtest["total"]["expected_repeat_purchases"], rel=1e-12)


# ------------------------------------------------------------ the measures, by lifetimes


def lifetimes_customers(transactions_csv, parameters, dates, out_dir):
    """Per calibration customer: what lifetimes' calibration_and_holdout_data gives
    and, with `parameters`, its expected purchases and order value (TRANSACTIONS_CSV:
    user_id, date, revenue)."""
    params_json, out_csv = out_dir / "parameters.json", out_dir / "customers.csv"
    params_json.write_text(json.dumps(parameters))
    lifetimes(HERE / "clv_lifetimes_reference.py", "backtest", transactions_csv,
              params_json, dates["calibration_end"], dates["as_of"], out_csv)
    with open(out_csv, newline="") as file:
        return [{name: float(value) for name, value in row.items()}
                for row in csv.DictReader(file)]


def predictions(customers):
    """Predictor -> rows (user_id, E, P, y, v), by the spec's definitions."""
    rows = defaultdict(list)
    for c in customers:
        x, age, holdout = c["frequency_cal"], c["T_cal"], c["duration_holdout"]
        actual = (c["frequency_holdout"], c["holdout_revenue"])
        expected = c["expected_purchases"]
        rows["model"].append(
            (int(c["user_id"]), expected, expected * c["expected_order_value"], *actual))
        baseline = 0.0 if age == 0 else x / age * holdout
        per_day = c["calibration_revenue"] / (x + 1)
        rows["baseline"].append(
            (int(c["user_id"]), baseline, baseline * per_day, *actual))
    return rows


def relative_error(predicted, actual):
    return None if actual == 0 else (predicted - actual) / actual


def gini(rows, key):
    """G = sum over k of (V_k / V - k / n) / n, the rows in order of key."""
    ordered = sorted(rows, key=key)
    total, n, cumulative, terms = math.fsum(r[4] for r in rows), len(rows), 0.0, []
    for k, row in enumerate(ordered, start=1):
        cumulative += row[4]
        terms.append(cumulative / total - k / n)
    return math.fsum(terms) / n


def deciles(rows):
    """ntile(10) by P descending, then user id: (decile, rows) pairs."""
    ordered = sorted(rows, key=lambda r: (-r[2], r[0]))
    size, larger = divmod(len(ordered), 10)
    groups, start = [], 0
    for decile in range(1, 11):
        end = start + size + (decile <= larger)
        if end > start:
            groups.append((decile, ordered[start:end]))
        start = end
    return groups


def expected_marts(customers, dates):
    """clv_backtest_measures and clv_backtest_deciles as the spec defines them."""
    measures, decile_rows = {}, {}
    for predictor, rows in predictions(customers).items():
        n = len(rows)
        sums = [math.fsum(r[i] for r in rows) for i in range(1, 5)]
        mape_terms = []
        for decile, group in deciles(rows):
            predicted, actual = (math.fsum(r[i] for r in group) for i in (2, 4))
            decile_rows[(predictor, decile)] = {
                "predictor": predictor, "decile": decile, "customers": len(group),
                "predicted_revenue": predicted, "actual_revenue": actual,
                "as_of_date": dates["as_of"],
            }
            if actual > 0:
                mape_terms.append(abs(predicted - actual) / actual)
        by_prediction = gini(rows, lambda r: (-r[2], r[0])) if sums[3] else None
        by_actual = gini(rows, lambda r: (-r[4], r[0])) if sums[3] else None
        measures[predictor] = {
            "predictor": predictor,
            "calibration_end_date": dates["calibration_end"],
            "holdout_days": HOLDOUT_DAYS,
            "customers": n,
            "predicted_purchases": sums[0],
            "actual_purchases": sums[2],
            "purchases_relative_error": relative_error(sums[0], sums[2]),
            "predicted_revenue": sums[1],
            "actual_revenue": sums[3],
            "revenue_relative_error": relative_error(sums[1], sums[3]),
            "purchases_mae": math.fsum(abs(r[1] - r[3]) for r in rows) / n,
            "purchases_rmse": math.sqrt(math.fsum((r[1] - r[3]) ** 2 for r in rows) / n),
            "revenue_decile_mape": (
                math.fsum(mape_terms) / len(mape_terms) if mape_terms else None),
            "normalized_gini": (
                by_prediction / by_actual if by_actual else None),
            "as_of_date": dates["as_of"],
        }
    return measures, decile_rows


def differences(got_rows, want, key):
    """Every column of every row: floats to TOLERANCE relative, the rest exactly."""
    got = {key(row): row for row in got_rows}
    assert sorted(got) == sorted(want), "the marts hold other rows"
    found = []
    for row_key, want_row in want.items():
        assert list(got[row_key]) == list(want_row), "the columns differ"
        for column, value in want_row.items():
            mine = got[row_key][column]
            same = (mine is None and value is None) if None in (mine, value) else (
                mine == pytest.approx(value, rel=TOLERANCE, abs=0)
                if isinstance(value, float) else mine == value)
            if not same:
                found.append(f"{row_key} {column}: mart {mine!r}, lifetimes {value!r}")
    return found


@pytest.fixture(scope="module")
def cdnow_expected(backtest, tmp_path_factory):
    out = tmp_path_factory.mktemp("cdnow_measures")
    lifetimes(HERE / "clv_lifetimes_reference.py", "sample-transactions",
              out / "transactions.csv")
    customers = lifetimes_customers(out / "transactions.csv", backtest["parameters"],
                                    CDNOW, out)
    return expected_marts(customers, CDNOW)


def test_cdnow_measures_match_lifetimes(backtest, cdnow_expected):
    measures, _ = cdnow_expected
    assert not differences(backtest["measures"], measures, lambda r: r["predictor"])
    model = {row["predictor"]: row for row in backtest["measures"]}["model"]
    # The paper's holdout check, as clv_backtest's total.
    assert model["customers"] == 2357 and model["actual_purchases"] == 1882
    assert abs(model["predicted_purchases"] - 1653) < 1


def test_cdnow_deciles_match_lifetimes(backtest, cdnow_expected):
    _, deciles_ = cdnow_expected
    assert not differences(backtest["deciles"], deciles_,
                           lambda r: (r["predictor"], r["decile"]))


# ------------------------------------------------------------------------- the demo


def demo_transactions(out_csv):
    """The demo's revenue orders (raw seeds, the Python reference's rules) as
    user_id, date, revenue."""
    def read(name):
        with open(PROJECT_DIR / "seeds" / "demo" / name, newline="") as file:
            return [{k: (None if v == "" else v) for k, v in row.items()}
                    for row in csv.DictReader(file)]

    users, orders = read("demo_users.csv"), read("demo_orders.csv")
    for user in users:
        user["user_id"] = int(user["user_id"])
    for order in orders:
        for column in ("order_id", "user_id"):
            order[column] = None if order[column] is None else int(order[column])
        if order["total_amount"] is not None:
            order["total_amount"] = Decimal(order["total_amount"])
    audit = reference.build_order_audit(
        orders, users, read_fx_rates(demo=True), DEMO["as_of"],
        ("paid", "shipped", "completed"))
    with open(out_csv, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["user_id", "date", "revenue"])
        for order in reference.revenue_orders(audit):
            writer.writerow([order.user_id, order.order_date.isoformat(),
                             order.amount_usd])


def demo_calibration_parameters():
    """The demo's committed fit as of the calibration end (the newest)."""
    with open(PROJECT_DIR / "seeds" / "demo" / "demo_clv_fit.csv", newline="") as file:
        fits = [row for row in csv.DictReader(file)
                if row["fitted_as_of_date"] == DEMO["calibration_end"].isoformat()]
    newest = max(row["fitted_at"] for row in fits)
    return {row["parameter"]: float(row["value"])
            for row in fits if row["fitted_at"] == newest}


@pytest.fixture(scope="module")
def demo_backtest(profiles_dir, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp("demo_backtest")
    warehouse = DuckDbWarehouse(work_dir, MART_SCHEMA)
    build = ["build", "--select", *(f"+{mart}" for mart in BACKTEST_MARTS),
             "--indirect-selection", "cautious", "--exclude-resource-type", "unit_test",
             "--vars", json.dumps({"ltv_as_of_date": DEMO["as_of"].isoformat()}),
             "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(profiles_dir),
             "--target", "duckdb"]
    with pytest.MonkeyPatch.context() as env:
        for name, value in warehouse.dbt_env().items():
            env.setenv(name, value)
        env.setenv("DBT_TARGET_PATH", str(work_dir / "target"))
        env.setenv("DBT_LOG_PATH", str(work_dir / "logs"))
        assert dbtRunner().invoke(build).success
    demo_transactions(work_dir / "transactions.csv")
    customers = lifetimes_customers(work_dir / "transactions.csv",
                                    demo_calibration_parameters(), DEMO, work_dir)
    return {mart: read_pending(warehouse, mart) for mart in BACKTEST_MARTS}, \
        expected_marts(customers, DEMO)


def test_demo_measures_match_lifetimes(demo_backtest):
    marts, (measures, _) = demo_backtest
    assert not differences(marts["clv_backtest_measures"], measures,
                           lambda r: r["predictor"])


def test_demo_deciles_match_lifetimes(demo_backtest):
    marts, (_, deciles_) = demo_backtest
    assert not differences(marts["clv_backtest_deciles"], deciles_,
                           lambda r: (r["predictor"], r["decile"]))


def test_demo_backtest_total_is_the_models_purchases(demo_backtest):
    """clv_backtest's total and the model's row of the measures: one computation."""
    marts, _ = demo_backtest
    total = [r for r in marts["clv_backtest"] if r["frequency_bin"] == "total"][0]
    model = [r for r in marts["clv_backtest_measures"] if r["predictor"] == "model"][0]
    assert total["customers"] == model["customers"]
    assert total["actual_repeat_purchases"] == model["actual_purchases"]
    assert total["expected_repeat_purchases"] == pytest.approx(
        model["predicted_purchases"], rel=1e-12)
