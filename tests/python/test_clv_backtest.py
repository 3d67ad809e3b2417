"""clv_backtest on the CDNOW 1/10 sample: the papers' holdout check.

Fader, Hardie and Lee (2005): BG/NBD fitted on weeks 1-39 (to 1997-09-30) of the
CDNOW sample (2,357 customers) expects about 1,653 repeat purchases in weeks 40-78
(1997-10-01 to 1998-06-30). Here: the sample as raw tables; clv_backtest as of
1998-07-01 before any fit (empty, with a warning naming the command); `make
fit-clv`'s script as of 1998-07-01, which also fits the calibration period to
1997-10-01 (the default holdout of 273 days, 39 weeks); clv_backtest again. The
builds select a subset: the tests read the pending mart (read_pending).
"""

import json

import pytest
from dbt.cli.main import dbtRunner

from conftest import MART_SCHEMA, RAW_SCHEMA
from harness import PROJECT_DIR
from harness.datasets import Dataset
from harness.warehouses import DuckDbWarehouse
from test_user_clv_matches_lifetimes import HERE, fit_clv, lifetimes, read_pending
from test_user_rfm_matches_lifetimes import read_csv


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
    build = ["build", "--select", "+clv_backtest", "--indirect-selection", "cautious",
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
        result["unfitted_rows"] = read_pending(warehouse, "clv_backtest")
        result["unfitted_messages"] = messages
        fit_clv.main([*common, "--vars", json.dumps(later)])
        assert dbtRunner().invoke(build).success
    result["bins"] = {row["frequency_bin"]: row
                      for row in read_pending(warehouse, "clv_backtest")}
    return result


def test_without_a_calibration_fit_it_is_empty_and_says_why(backtest):
    assert backtest["unfitted_rows"] == []
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
