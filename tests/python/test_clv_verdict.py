"""The CLV backtest's verdict (serve/app/verdict.py) on hand-made rows of
clv_backtest_measures: who wins each measure, and the words readers see."""

from harness.backtest import MEASURE_COLUMNS, MEASURES, VERDICT_START, as_dicts
from serve.app.verdict import verdict


def rows(**changes) -> list:
    """The hand-made rows, with the model's values changed."""
    model, baseline = as_dicts(MEASURE_COLUMNS, MEASURES)
    return [{**model, **changes}, baseline]


def wins(result) -> dict:
    return {m["measure"]: m["model_wins"] for m in result["measures"]}


def test_the_model_wins_where_its_error_is_smaller_and_its_gini_larger():
    result = verdict(rows())
    assert result["status"] == "ok"
    assert (result["wins"], result["compared"]) == (4, 6)
    assert wins(result) == {
        "purchases_relative_error": True,  # |-5%| against |10%|: signs do not count
        "revenue_relative_error": True,  # |8%| against |-20%|
        "purchases_mae": True,
        "purchases_rmse": False,
        "revenue_decile_mape": False,
        "normalized_gini": True,  # higher is better
    }
    assert result["text"].startswith(VERDICT_START + ": purchases' relative error -5.0%")
    assert ("Not on: purchases RMSE 2.5 against 2.1; revenue decile MAPE 30.0% "
            "against 25.0%") in result["text"]
    assert "holdout of 273 days after 2025-10-01, 1000 customers" in result["text"]


def test_a_tie_is_no_win_and_a_missing_value_is_not_compared():
    result = verdict(rows(purchases_mae=1.1, normalized_gini=None))
    assert wins(result)["purchases_mae"] is False
    assert wins(result)["normalized_gini"] is None
    assert (result["wins"], result["compared"]) == (2, 5)
    assert result["text"].startswith("The model beats the naive baseline on 2 of 5")


def test_a_worse_gini_loses():
    assert wins(verdict(rows(normalized_gini=0.2)))["normalized_gini"] is False


def test_without_the_marts_or_without_a_fit():
    missing = verdict(None)
    assert missing["status"] == "missing" and "not published yet" in missing["text"]
    empty = verdict([])
    assert empty["status"] == "empty" and "make fit-clv" in empty["text"]
    model_only = verdict(rows()[:1])
    assert model_only["status"] == "incomplete" and "make fit-clv" in model_only["text"]
