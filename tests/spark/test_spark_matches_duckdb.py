"""The demo built on Spark equals the demo built on DuckDB, mart by mart.

Same models, same data, same as-of date: every row of every mart must match, column
by column. Integers, strings, dates and booleans are equal; numbers agree to a
relative 1e-6 (absolute 1e-9 near zero), which leaves room for averages divided at
different precisions and double-precision percentiles. Money that is only converted
and summed (never divided) must be exactly equal: the Spark profile keeps decimal
products exact (spark.sql.decimalOperations.allowPrecisionLoss false).

Spark cannot enforce the marts' contracts (no constraints without Delta), so these
tests also hold its marts to the contracts' columns and types, and check that the
same data tests and unit tests ran, with the same outcome, on both engines.
"""

import re
from collections import defaultdict

import pytest

from harness.comparison import values_match

pytest.importorskip("pyspark", reason="the Spark suite runs in .venv-spark")

# Every mart (conftest.MARTS reads the same thirteen), and the key of its grain.
MART_KEYS = {
    "user_ltv": ("user_id",),
    "ltv_summary": ("horizon",),
    "ltv_segments": ("ltv_segment",),
    "ltv_distribution": ("horizon", "bucket_order"),
    "order_audit": ("order_id",),
    "ltv_cohorts": ("signup_month", "months_since_signup"),
    "ltv_by_channel": ("acquisition_channel", "horizon"),
    "user_rfm": ("user_id",),
    "clv_model_parameters": ("model", "parameter"),
    "user_clv": ("user_id",),
    "clv_backtest": ("frequency_bin",),
    "clv_backtest_measures": ("predictor",),
    "clv_backtest_deciles": ("predictor", "decile"),
}
MARTS = tuple(MART_KEYS)
# Converted and summed, never divided: equal to the last of the 12 decimals.
EXACT_MONEY = {
    "user_ltv": ("revenue_3m", "revenue_6m", "revenue_12m", "revenue_lifetime"),
    "ltv_summary": ("total_revenue",),
    "ltv_segments": (
        "revenue_lifetime", "min_revenue_lifetime", "max_revenue_lifetime",
    ),
    "ltv_distribution": ("lower_bound", "upper_bound", "revenue"),
    "order_audit": ("order_amount", "amount_usd"),
    "ltv_cohorts": ("revenue_in_month", "revenue_cumulative"),
    "ltv_by_channel": ("total_revenue", "cac"),
    "user_rfm": (),
    "clv_model_parameters": (),
    "user_clv": (),
    "clv_backtest": (),
    "clv_backtest_measures": (),
    "clv_backtest_deciles": (),
}
EXAMPLES_PER_COLUMN = 5
# A contract's data types as Spark names them.
SPARK_TYPE_NAMES = {"varchar": "string", "double precision": "double", "integer": "int"}


def spark_type_name(contract_type: str) -> str:
    name = re.sub(r"\s+", " ", contract_type.strip().lower()).replace(", ", ",")
    return SPARK_TYPE_NAMES.get(name, name)


def mart_node(manifest: dict, mart: str) -> dict:
    return manifest["nodes"][f"model.ltv.{mart}"]


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("mart", MARTS)
def test_mart_matches_duckdb(mart, spark_build, duckdb_build):
    spark, duckdb = spark_build.marts[mart], duckdb_build.marts[mart]
    assert spark.columns == duckdb.columns
    assert duckdb.rows, f"{mart} is empty on DuckDB: nothing to compare"

    key_columns = MART_KEYS[mart]
    spark_rows = {tuple(row[c] for c in key_columns): row for row in spark.rows}
    duckdb_rows = {tuple(row[c] for c in key_columns): row for row in duckdb.rows}
    assert len(spark_rows) == len(spark.rows), f"{key_columns} not unique on Spark"
    assert sorted(spark_rows) == sorted(duckdb_rows), "the marts hold different keys"

    differences = defaultdict(list)
    for key, duckdb_row in sorted(duckdb_rows.items()):
        spark_row = spark_rows[key]
        for column in duckdb.columns:
            exact = column in EXACT_MONEY[mart]
            if not values_match(duckdb_row[column], spark_row[column], exact):
                differences[column].append(
                    f"{dict(zip(key_columns, key))}: duckdb {duckdb_row[column]!r}, "
                    f"spark {spark_row[column]!r}"
                )
    assert not differences, "\n".join(
        f"{column} differs in {len(examples)} of {len(duckdb.rows)} rows, e.g.\n  "
        + "\n  ".join(examples[:EXAMPLES_PER_COLUMN])
        for column, examples in differences.items()
    )


@pytest.mark.parametrize("mart", MARTS)
def test_spark_mart_has_contract_columns_and_types(mart, spark_build):
    """The contract, checked here because Spark cannot enforce it."""
    columns = mart_node(spark_build.manifest, mart)["columns"]
    contract = [(name, spark_type_name(c["data_type"])) for name, c in columns.items()]
    spark = spark_build.marts[mart]
    assert list(zip(spark.columns, spark.types)) == contract


def test_every_mart_is_compared(spark_build, duckdb_build):
    assert sorted(spark_build.marts) == sorted(duckdb_build.marts) == sorted(MARTS)


def test_contracts_enforced_except_on_spark(spark_build, duckdb_build):
    enforced = {
        engine: {
            mart: mart_node(build.manifest, mart)["config"]["contract"]["enforced"]
            for mart in MARTS
        }
        for engine, build in (("spark", spark_build), ("duckdb", duckdb_build))
    }
    assert enforced == {
        "spark": dict.fromkeys(MARTS, False),
        "duckdb": dict.fromkeys(MARTS, True),
    }


def test_same_nodes_with_same_outcome(spark_build, duckdb_build):
    """Every seed, model, data test and unit test ran on both engines, with the same
    status and number of failing rows (the demo's two warnings included)."""
    node_types = ("seed", "model", "test", "unit_test")

    def outcomes(build) -> dict:
        return {
            result["unique_id"]: (result["status"], result["failures"])
            for result in build.run_results["results"]
            if result["unique_id"].split(".")[0] in node_types
        }

    spark, duckdb = outcomes(spark_build), outcomes(duckdb_build)
    assert sorted(spark) == sorted(duckdb)
    assert {k: v for k, v in spark.items() if v != duckdb[k]} == {}
