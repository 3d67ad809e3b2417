"""lifetimes' own BG/NBD and Gamma-Gamma numbers, as files for the CLV tests.

Runs INSIDE the lifetimes venv (`make lifetimes-venv`), like lifetimes_reference.py,
and imports nothing from the project:

    python clv_lifetimes_reference.py sample OUT_CSV
        the RFM summary (freq='D') of CDNOW_sample.txt (the 1/10 sample of the papers)
        observed to 1997-09-30: user_id, frequency, recency, T, monetary_value;
    python clv_lifetimes_reference.py sample-raw OUT_DIR
        the same transactions as the project's raw users.csv and orders.csv (as
        lifetimes_reference.py writes CDNOW_master's);
    python clv_lifetimes_reference.py fit SUMMARY_CSV OUT_JSON
        BetaGeoFitter(penalizer_coef=0) on every row and GammaGammaFitter(
        penalizer_coef=0) on the rows with frequency and monetary_value > 0;
    python clv_lifetimes_reference.py predict SUMMARY_CSV PARAMS_JSON OUT_CSV
        with the given parameters: per user probability_alive, expected_purchases_90d,
        expected_purchases_365d, expected_order_value and predicted_clv_12m
        (customer_lifetime_value, time=12, discount_rate=0.01, freq='D').
    python clv_lifetimes_reference.py sample-transactions OUT_CSV
        the sample's transactions as user_id, date, revenue;
    python clv_lifetimes_reference.py backtest TRANSACTIONS_CSV PARAMS_JSON
            CALIBRATION_END AS_OF OUT_CSV
        per customer of the calibration period (transactions before CALIBRATION_END)
        lifetimes' calibration_and_holdout_data (freq='D', holdout to AS_OF
        exclusive) and, with the given parameters, the expected holdout purchases
        (conditional_expected_number_of_purchases_up_to_time) and order value
        (conditional_expected_average_profit); beside them the calibration and
        holdout revenue summed by pandas.
"""

import json
import sys
from pathlib import Path
from importlib.resources import files

import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data


def read_sample():
    path = files("lifetimes") / "datasets" / "CDNOW_sample.txt"
    transactions = pd.read_csv(
        path, sep=r"\s+", header=None, dtype={2: str},
        names=["customer_id", "customer_index", "date", "number_of_cds", "dollar_value"],
    )
    transactions["date"] = pd.to_datetime(transactions["date"], format="%Y%m%d")
    return transactions


def sample_raw(out_dir):
    from lifetimes_reference import write_raw_tables

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_raw_tables(read_sample(), out)


def sample(out_csv):
    transactions = read_sample()
    summary = summary_data_from_transaction_data(
        transactions, "customer_id", "date", monetary_value_col="dollar_value",
        observation_period_end=pd.Timestamp("1997-09-30"), freq="D",
    )
    summary.index.name = "user_id"
    summary.to_csv(out_csv)


def fit(summary_csv, out_json):
    summary = pd.read_csv(summary_csv)
    bgf = BetaGeoFitter(penalizer_coef=0.0)
    bgf.fit(summary["frequency"], summary["recency"], summary["T"])
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    ggf = GammaGammaFitter(penalizer_coef=0.0)
    ggf.fit(repeat["frequency"], repeat["monetary_value"])
    params = {**bgf.params_.to_dict(), **ggf.params_.to_dict()}
    with open(out_json, "w") as file:
        json.dump({name: float(value) for name, value in params.items()}, file)


def predict(summary_csv, params_json, out_csv):
    summary = pd.read_csv(summary_csv)
    with open(params_json) as file:
        params = json.load(file)
    bgf = BetaGeoFitter()
    bgf.params_ = pd.Series({name: params[name] for name in ("r", "alpha", "a", "b")})
    # fit() sets this alias, which customer_lifetime_value calls.
    bgf.predict = bgf.conditional_expected_number_of_purchases_up_to_time
    ggf = GammaGammaFitter()
    ggf.params_ = pd.Series({name: params[name] for name in ("p", "q", "v")})
    f, r, T, m = (summary[c] for c in ("frequency", "recency", "T", "monetary_value"))
    out = pd.DataFrame({"user_id": summary["user_id"]})
    out["probability_alive"] = bgf.conditional_probability_alive(f, r, T)
    for days in (90, 365):
        out[f"expected_purchases_{days}d"] = (
            bgf.conditional_expected_number_of_purchases_up_to_time(days, f, r, T)
        )
    out["expected_order_value"] = ggf.conditional_expected_average_profit(f, m)
    out["predicted_clv_12m"] = ggf.customer_lifetime_value(
        bgf, f, r, T, m, time=12, discount_rate=0.01, freq="D"
    ).to_numpy()
    out.to_csv(out_csv, index=False, float_format="%.17g")


def sample_transactions(out_csv):
    transactions = read_sample()
    pd.DataFrame({
        "user_id": transactions["customer_id"], "date": transactions["date"],
        "revenue": transactions["dollar_value"],
    }).to_csv(out_csv, index=False, date_format="%Y-%m-%d")


def backtest(transactions_csv, params_json, calibration_end, as_of, out_csv):
    from lifetimes.utils import calibration_and_holdout_data

    transactions = pd.read_csv(transactions_csv, parse_dates=["date"])
    calibration_end, as_of = pd.Timestamp(calibration_end), pd.Timestamp(as_of)
    transactions = transactions[transactions["date"] < as_of]
    one_day = pd.Timedelta(days=1)
    data = calibration_and_holdout_data(
        transactions, "user_id", "date", calibration_period_end=calibration_end - one_day,
        observation_period_end=as_of - one_day, freq="D", monetary_value_col="revenue",
    )
    with open(params_json) as file:
        params = json.load(file)
    bgf = BetaGeoFitter()
    bgf.params_ = pd.Series({name: params[name] for name in ("r", "alpha", "a", "b")})
    ggf = GammaGammaFitter()
    ggf.params_ = pd.Series({name: params[name] for name in ("p", "q", "v")})
    out = data.reset_index()
    out["expected_purchases"] = bgf.conditional_expected_number_of_purchases_up_to_time(
        out["duration_holdout"], out["frequency_cal"], out["recency_cal"], out["T_cal"]
    ).to_numpy()
    out["expected_order_value"] = ggf.conditional_expected_average_profit(
        out["frequency_cal"], out["monetary_value_cal"]
    ).to_numpy()
    before = transactions["date"] < calibration_end
    for name, rows in (("calibration", before), ("holdout", ~before)):
        revenue = transactions[rows].groupby("user_id")["revenue"].sum()
        out[f"{name}_revenue"] = out["user_id"].map(revenue).fillna(0).to_numpy()
    out.to_csv(out_csv, index=False, float_format="%.17g")


if __name__ == "__main__":
    commands = {"sample": sample, "sample-raw": sample_raw, "fit": fit,
                "predict": predict, "sample-transactions": sample_transactions,
                "backtest": backtest}
    if len(sys.argv) < 3 or sys.argv[1] not in commands:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(commands)} ARGS")
    commands[sys.argv[1]](*sys.argv[2:])
