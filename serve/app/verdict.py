"""The CLV backtest's verdict: does the model beat the naive baseline?

Read from clv_backtest_measures (one row per predictor, 'model' and 'baseline'), as
plain words for the dashboard (GET /api/v1/ltv/clv-verdict) and the offline report.
The marts may not be published yet (None) or be empty (no calibration fit).
"""

# (column, what readers call it, better when): relative errors compare by their
# absolute value (an over- and an under-prediction of the same size are as wrong).
MEASURES = (
    ("purchases_relative_error", "purchases' relative error", "lower_absolute"),
    ("revenue_relative_error", "revenue's relative error", "lower_absolute"),
    ("purchases_mae", "purchases MAE", "lower"),
    ("purchases_rmse", "purchases RMSE", "lower"),
    ("revenue_decile_mape", "revenue decile MAPE", "lower"),
    ("normalized_gini", "normalized Gini", "higher"),
)
PERCENT_MEASURES = {"purchases_relative_error", "revenue_relative_error",
                    "revenue_decile_mape"}  # fmt: skip

MISSING = ("The backtest marts (clv_backtest_measures, clv_backtest_deciles) are not "
           "published yet: no verdict.")  # fmt: skip
EMPTY = ("The backtest has no calibration fit: run `make fit-clv`, then build again, "
         "for the verdict.")  # fmt: skip


def model_wins(measure: str, better: str, model, baseline):
    """True when the model is better on one measure, False when not (a tie is not
    a win), None when either value is missing."""
    if model is None or baseline is None:
        return None
    model, baseline = float(model), float(baseline)
    if better == "lower_absolute":
        return abs(model) < abs(baseline)
    if better == "lower":
        return model < baseline
    return model > baseline


def shown(measure: str, value) -> str:
    if value is None:
        return "n/a"
    if measure in PERCENT_MEASURES:
        return f"{float(value) * 100:.1f}%"
    return f"{float(value):.3g}"


def verdict(rows) -> dict:
    """The verdict of clv_backtest_measures' rows (None: the mart is missing):
    status (missing, empty, incomplete, ok), text, wins of compared, per measure."""
    if rows is None:
        return {"status": "missing", "text": MISSING, "wins": None, "compared": 0,
                "measures": []}  # fmt: skip
    if not rows:
        return {"status": "empty", "text": EMPTY, "wins": None, "compared": 0,
                "measures": []}  # fmt: skip
    by_predictor = {row["predictor"]: row for row in rows}
    if not {"model", "baseline"} <= set(by_predictor):
        return {"status": "incomplete", "wins": None, "compared": 0, "measures": [],
                "text": "The backtest lacks the model's or the baseline's row: "
                        "run `make fit-clv`, then build again."}  # fmt: skip
    model, baseline = by_predictor["model"], by_predictor["baseline"]
    measures = []
    for column, label, better in MEASURES:
        measures.append({
            "measure": column, "label": label, "better": better,
            "model": model.get(column), "baseline": baseline.get(column),
            "model_wins": model_wins(column, better, model.get(column),
                                     baseline.get(column)),
        })  # fmt: skip
    compared = [m for m in measures if m["model_wins"] is not None]
    wins = sum(m["model_wins"] for m in compared)

    def listed(items):
        return "; ".join(
            f"{m['label']} {shown(m['measure'], m['model'])} against "
            f"{shown(m['measure'], m['baseline'])}" for m in items
        )

    text = (f"The model beats the naive baseline on {wins} of {len(compared)} "
            f"measures")  # fmt: skip
    better_on = [m for m in compared if m["model_wins"]]
    worse_on = [m for m in compared if not m["model_wins"]]
    if better_on:
        text += f": {listed(better_on)}"
    if worse_on:
        text += f". Not on: {listed(worse_on)}"
    text += (f" (holdout of {model.get('holdout_days')} days after "
             f"{model.get('calibration_end_date')}, {model.get('customers')} customers; "
             "errors lower is better, Gini higher is better).")  # fmt: skip
    return {"status": "ok", "text": text, "wins": wins, "compared": len(compared),
            "measures": measures}  # fmt: skip
