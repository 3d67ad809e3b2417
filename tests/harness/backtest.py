"""Hand-made rows of the CLV backtest's marts (clv_backtest_measures and
clv_backtest_deciles), and a copy of a DuckDB warehouse that holds them instead of
its own (or none), for the report's and the dashboard's verdicts: a verdict the
rows decide, no calibration fit, a warehouse of a build before these marts."""

import shutil
from pathlib import Path

import duckdb

MEASURE_COLUMNS = (
    "predictor", "calibration_end_date", "holdout_days", "customers",
    "predicted_purchases", "actual_purchases", "purchases_relative_error",
    "predicted_revenue", "actual_revenue", "revenue_relative_error", "purchases_mae",
    "purchases_rmse", "revenue_decile_mape", "normalized_gini",
)  # fmt: skip
# The model wins on 4 of 6: both relative errors (|-0.05| < |0.10|, |0.08| < |-0.20|),
# MAE and Gini; it loses on RMSE and decile MAPE.
MEASURES = [
    ("model", "2025-10-01", 273, 1000, 950.0, 1000, -0.05, 47000.0, 43500.0, 0.08,
     0.9, 2.5, 0.30, 0.62),
    ("baseline", "2025-10-01", 273, 1000, 1100.0, 1000, 0.10, 34800.0, 43500.0, -0.20,
     1.1, 2.1, 0.25, 0.41),
]  # fmt: skip
VERDICT_START = "The model beats the naive baseline on 4 of 6 measures"
DECILE_COLUMNS = ("predictor", "decile", "customers", "predicted_revenue",
                  "actual_revenue")  # fmt: skip
DECILES = [
    (predictor, decile, 100, 1000.0 * (11 - decile) * scale,
     1000.0 * (11 - decile) * scale * (0.9 + 0.02 * decile))
    for predictor, scale in (("model", 1.0), ("baseline", 0.8))
    for decile in range(1, 11)
]  # fmt: skip


def as_dicts(columns: tuple, rows: list) -> list:
    return [dict(zip(columns, row)) for row in rows]


def warehouse_with_backtest(source: Path, target: Path, schema: str,
                            measures=MEASURES, deciles=DECILES) -> Path:
    """A copy of a DuckDB warehouse whose backtest marts hold these rows instead of
    its own (empty lists: a build without a calibration fit; None: no such marts)."""
    shutil.copyfile(source, target)
    with duckdb.connect(str(target)) as connection:
        for table in ("clv_backtest_measures", "clv_backtest_deciles"):
            connection.execute(f"drop table if exists {schema}.{table}")
        if measures is None:
            return target
        connection.execute(f"""
            create table {schema}.clv_backtest_measures (
                predictor varchar, calibration_end_date date, holdout_days integer,
                customers bigint, predicted_purchases double, actual_purchases bigint,
                purchases_relative_error double, predicted_revenue decimal(18, 2),
                actual_revenue decimal(18, 2), revenue_relative_error double,
                purchases_mae double, purchases_rmse double,
                revenue_decile_mape double, normalized_gini double)""")
        connection.execute(f"""
            create table {schema}.clv_backtest_deciles (
                predictor varchar, decile integer, customers bigint,
                predicted_revenue decimal(18, 2), actual_revenue decimal(18, 2))""")
        for table, rows in (("clv_backtest_measures", measures),
                            ("clv_backtest_deciles", deciles)):  # fmt: skip
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                connection.executemany(
                    f"insert into {schema}.{table} values ({marks})", rows
                )
    return target
