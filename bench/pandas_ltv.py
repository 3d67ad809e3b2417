"""Step (c): user_ltv's revenue and order columns with pandas, from the CSV files.

The same rules as bench/expert_user_ltv.sql: latest version per order_id (updated_at,
else created_at), status lower(trim()) in paid/shipped/completed, valid rows only
(user_id, created_at and a non-negative amount present, known user), orders dated
before as_of, FX conversion with the monthly rate, horizons with month arithmetic
clamped at month ends, users who signed up before as_of.

Money stays exact: amounts are integer cents, and each order's USD amount an integer
in units of 1e-12 USD, rounded as the project's money type rounds it.

Usage: pandas_ltv.py DATA_DIR FX_CSV AS_OF [--out result.csv]. Prints one JSON line:
timings (read, compute) and checksums (users, per-horizon revenue and order sums).
"""

import argparse
import datetime
import json
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd

HORIZONS = (3, 6, 12)
REVENUE_STATUSES = ("paid", "shipped", "completed")
UNITS_PER_USD = 10**8  # cents x millionths


def add_months(days: np.ndarray, months: int) -> np.ndarray:
    """datetime64[D] + n calendar months, clamped to the month end."""
    month = days.astype("datetime64[M]")
    day_of_month = (days - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.timedelta64(months, "M")
    month_len = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(
        np.int64
    )
    return target.astype("datetime64[D]") + np.minimum(day_of_month, month_len - 1)


def read(data_dir: Path, fx_csv: Path):
    stamp = "%Y-%m-%d %H:%M:%S"
    users = pd.read_csv(
        data_dir / "users.csv",
        dtype={"user_id": "int64", "acquisition_channel": "category"},
        parse_dates=["created_at"],
        date_format=stamp,
    )
    orders = pd.read_csv(
        data_dir / "orders.csv",
        dtype={
            "order_id": "int64",
            "user_id": "float64",
            "status": "category",
            "total_amount": "float64",
            "currency": "category",
        },
        parse_dates=["created_at", "updated_at"],
        date_format=stamp,
        keep_default_na=False,
        na_values=[""],
    )
    fx = pd.read_csv(fx_csv, dtype={"currency": "str", "usd_per_unit": "str"})
    return users, orders, fx


def compute(users: pd.DataFrame, orders: pd.DataFrame, fx: pd.DataFrame, as_of) -> pd.DataFrame:
    as_of = np.datetime64(as_of, "D")

    # Latest version of each order_id (NaT keys last); exact duplicates collapse.
    orders["version_at"] = orders["updated_at"].fillna(orders["created_at"])
    orders = orders.sort_values(
        ["order_id", "version_at"], ascending=[True, False], na_position="last"
    ).drop_duplicates("order_id", keep="first")

    # Normalize the few distinct spellings once, on the categories (code -1 = null).
    status_norm = orders["status"].cat.categories.str.strip().str.lower()
    revenue_category = np.append(np.isin(status_norm, REVENUE_STATUSES), False)
    is_revenue_status = revenue_category[orders["status"].cat.codes.values]
    order_day = orders["created_at"].values.astype("datetime64[D]")
    valid = (
        is_revenue_status
        & orders["user_id"].notna().values
        & orders["created_at"].notna().values
        & (orders["total_amount"].values >= 0)
        & (order_day < as_of)
    )
    orders = orders.loc[valid]
    order_day = order_day[valid]
    cents = np.round(orders["total_amount"].values * 100).astype(np.int64)

    currency_norm = orders["currency"].cat.categories.str.strip().str.upper()
    currency_norm = np.append(np.where(currency_norm == "", "USD", currency_norm), "USD")
    currency = currency_norm[orders["currency"].cat.codes.values]
    month = order_day.astype("datetime64[M]").astype(np.int64)
    fx_month = np.array(fx["rate_month"].tolist(), dtype="datetime64[M]").astype(np.int64)
    rate = pd.Series(
        [Decimal(value) for value in fx["usd_per_unit"]],
        index=pd.MultiIndex.from_arrays([fx["currency"].str.strip().str.upper(), fx_month]),
        dtype=object,
    )
    # USD to 12 decimals per order, as the project's money type rounds it (half
    # away from zero); ECB rates carry more digits than int64 products can hold.
    amount = cents * 10**10  # 1e-12 USD
    foreign = currency != "USD"
    looked_up = rate.reindex(pd.MultiIndex.from_arrays([currency[foreign], month[foreign]]))
    if looked_up.isna().any():
        raise ValueError("revenue order without an FX rate for its currency and month")
    amount[foreign] = [
        int((int(order_cents) * usd_per_unit).scaleb(10).quantize(1, ROUND_HALF_UP))
        for order_cents, usd_per_unit in zip(cents[foreign], looked_up.values)
    ]

    # Users who signed up before as_of; inner join drops unknown users.
    signup = users["created_at"].values.astype("datetime64[D]")
    users = users.loc[signup < as_of, ["user_id"]].copy()
    signup = signup[signup < as_of]
    frame = pd.DataFrame(
        {
            "user_id": orders["user_id"].values.astype(np.int64),
            "order_day": order_day,
            "amount": amount,
        }
    )
    ends = pd.DataFrame({"user_id": users["user_id"].values})
    for n in HORIZONS:
        ends[f"end_{n}m"] = add_months(signup, n)
    frame = frame.merge(ends, on="user_id", how="inner")
    columns = {}
    for n in HORIZONS:
        inside = frame["order_day"].values < frame[f"end_{n}m"].values
        columns[f"revenue_{n}m"] = np.where(inside, frame["amount"].values, 0)
        columns[f"orders_{n}m"] = inside.astype(np.int64)
    columns["revenue_lifetime"] = frame["amount"].values
    columns["orders_lifetime"] = np.ones(len(frame), dtype=np.int64)
    per_user = pd.DataFrame(columns).groupby(frame["user_id"].values).sum()
    result = per_user.reindex(users["user_id"].values, fill_value=0)
    result.index.name = "user_id"
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("fx_csv", type=Path)
    parser.add_argument("as_of", type=datetime.date.fromisoformat)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    start = time.perf_counter()
    users, orders, fx = read(args.data_dir, args.fx_csv)
    read_s = time.perf_counter() - start
    result = compute(users, orders, fx, args.as_of)
    compute_s = time.perf_counter() - start - read_s
    checks = {"users": int(len(result))}
    for column in result.columns:
        total = sum(int(value) for value in result[column].values)  # beyond int64
        checks[column] = (
            str(Decimal(total).scaleb(-12)) if column.startswith("revenue") else total
        )
    if args.out:
        result.to_csv(args.out)
    print(json.dumps({"read_s": read_s, "compute_s": compute_s, "checks": checks}))


if __name__ == "__main__":
    main()
