"""The lifetimes package's own RFM summary of its CDNOW data, as CSV files for the tests.

Runs INSIDE the separate lifetimes venv (`make lifetimes-venv`, pinned by
requirements-lifetimes.txt), never in the project venv, whose dbt pins lifetimes may
clash with; it imports nothing from the project. test_user_rfm_matches_lifetimes.py
runs it as

    .venv-lifetimes/bin/python tests/python/lifetimes_reference.py OUT_DIR AS_OF [AS_OF ...]

It reads lifetimes/datasets/CDNOW_master.txt (customer_id, date YYYYMMDD, number_of_cds,
dollar_value; one line per transaction) from the installed package and writes to OUT_DIR:

- users.csv and orders.csv, the transactions as the project's raw tables: a user per
  customer, signed up at 00:00:00 of the customer's first transaction date (so no
  transaction predates its signup), acquisition_channel null; an order per transaction
  line, order_id numbered in file order, status 'paid', currency 'USD', total_amount the
  dollar value (zero amounts included), created_at the date, updated_at null;
- summary_<AS_OF>.csv per as-of date: user_id, frequency, recency, T, monetary_value from
  lifetimes.utils.summary_data_from_transaction_data at freq='D' with the dollar value as
  monetary value and observation_period_end = AS_OF - 1 day (the project's as_of_date is
  an exclusive end; lifetimes' observation end is inclusive).

Empty CSV fields are nulls. Floats are written at full (round-trip) precision.
"""

import sys
from datetime import date, timedelta
from importlib.resources import files
from pathlib import Path

import pandas as pd
from lifetimes.utils import summary_data_from_transaction_data


def read_cdnow() -> pd.DataFrame:
    """The transactions, one row per line of the file, in file order."""
    path = files("lifetimes") / "datasets" / "CDNOW_master.txt"
    transactions = pd.read_csv(path, sep=r"\s+", dtype={"date": str})
    transactions["date"] = pd.to_datetime(transactions["date"], format="%Y%m%d")
    return transactions


def write_raw_tables(transactions: pd.DataFrame, out_dir: Path) -> None:
    users = (
        transactions.groupby("customer_id", as_index=False)["date"]
        .min()
        .rename(columns={"customer_id": "user_id", "date": "created_at"})
    )
    users["acquisition_channel"] = None
    users.to_csv(out_dir / "users.csv", index=False, date_format="%Y-%m-%d %H:%M:%S")

    orders = pd.DataFrame(
        {
            "order_id": range(1, len(transactions) + 1),
            "user_id": transactions["customer_id"],
            "created_at": transactions["date"],
            "updated_at": None,
            "status": "paid",
            "total_amount": transactions["dollar_value"],
            "currency": "USD",
        }
    )
    orders.to_csv(out_dir / "orders.csv", index=False, date_format="%Y-%m-%d %H:%M:%S")


def write_summary(transactions: pd.DataFrame, as_of: date, out_dir: Path) -> None:
    summary = summary_data_from_transaction_data(
        transactions,
        customer_id_col="customer_id",
        datetime_col="date",
        monetary_value_col="dollar_value",
        observation_period_end=pd.Timestamp(as_of - timedelta(days=1)),
        freq="D",
    )
    summary.index.name = "user_id"
    summary.to_csv(out_dir / f"summary_{as_of.isoformat()}.csv")


def main(out_dir: str, *as_of_dates: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    transactions = read_cdnow()
    write_raw_tables(transactions, out)
    for as_of in as_of_dates:
        write_summary(transactions, date.fromisoformat(as_of), out)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(f"usage: {sys.argv[0]} OUT_DIR AS_OF [AS_OF ...]")
    main(*sys.argv[1:])
