#!/bin/sh
# The backtest on the CDNOW 1/10 sample of the papers (2,357 customers, in the
# lifetimes wheel), as the README's table shows it: the sample's transactions as raw
# tables of schema cdnow_raw in a DuckDB file of its own (DIR, default a new
# temporary directory), `make fit-clv` and `make build-duckdb` as of 1998-07-01
# (calibration to 1997-10-01, 39 weeks of holdout), then clv_backtest_measures.
# Needs .venv and .venv-lifetimes (`make setup lifetimes-venv`).
set -eu
DIR=${1:-$(mktemp -d)}
mkdir -p "$DIR"
.venv-lifetimes/bin/python tests/python/clv_lifetimes_reference.py sample-raw "$DIR"
.venv/bin/python - "$DIR" <<'PY'
import sys

import duckdb

folder = sys.argv[1]
connection = duckdb.connect(f"{folder}/cdnow.duckdb")
connection.sql("create schema if not exists cdnow_raw")
connection.sql(f"""
create or replace table cdnow_raw.users as
select user_id::bigint as user_id, created_at::timestamp as created_at,
    acquisition_channel
from read_csv('{folder}/users.csv', all_varchar = true)""")
connection.sql(f"""
create or replace table cdnow_raw.orders as
select order_id::bigint as order_id, user_id::bigint as user_id,
    created_at::timestamp as created_at, updated_at::timestamp as updated_at, status,
    total_amount::numeric(18, 2) as total_amount, currency
from read_csv('{folder}/orders.csv', all_varchar = true)""")
PY
export DBT_DUCKDB_PATH="$DIR/cdnow.duckdb"
VARS='{"ltv_source_schema": "cdnow_raw", "ltv_as_of_date": "1998-07-01"}'
make --no-print-directory fit-clv build-duckdb DBT_VARS="$VARS" > "$DIR/build.log"
.venv/bin/python - "$DBT_DUCKDB_PATH" <<'PY'
import sys

import duckdb

result = duckdb.connect(sys.argv[1], read_only=True).sql(
    "select * from ltv.clv_backtest_measures order by predictor desc")
rows = result.fetchall()
for index, column in enumerate(result.columns):
    print(f"{column:26}", *(f"{str(row[index]):>22}" for row in rows))
PY
echo "warehouse: $DBT_DUCKDB_PATH (build log: $DIR/build.log)"
