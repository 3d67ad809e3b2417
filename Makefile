# `make build`: set up and build the demo on DuckDB. `make test`: everything CI runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# lifetimes (the RFM reference library) pins clash with dbt's: its own virtualenv.
LIFETIMES_VENV ?= .venv-lifetimes
# The demo's as-of date is fixed so that its numbers are reproducible.
DEMO_AS_OF ?= 2026-07-01
DBT_VARS := '{"ltv_as_of_date": "$(DEMO_AS_OF)"}'

.PHONY: setup build test lint build-duckdb build-postgres pytest demo-data docs clean \
	lifetimes-venv browser report

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

# dbt reads profiles.yml from the project directory; never overwrite local edits.
profiles.yml:
	cp -n profiles.yml.example $@

setup: $(BIN)/dbt profiles.yml

build: setup build-duckdb

build-duckdb: setup
	$(BIN)/dbt build --target duckdb --vars $(DBT_VARS)

# Starts a PostgreSQL server first when none answers at the PG* settings.
build-postgres: setup
	eval "$$($(BIN)/python scripts/ensure_postgres.py)" && \
	$(BIN)/dbt build --target postgres --vars $(DBT_VARS)

lint: setup
	$(BIN)/sqlfluff lint models analyses tests

# The report test renders in headless Chromium (Debian's package).
browser:
	command -v chromium >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

pytest: setup lifetimes-venv browser
	eval "$$($(BIN)/python scripts/ensure_postgres.py)" && \
	$(BIN)/pytest tests/python

test: lint build-duckdb build-postgres pytest

# Regenerates the committed demo seeds (deterministic).
demo-data:
	$(PYTHON) scripts/demo_data.py

# One self-contained HTML file from the marts of DBT_TARGET (default duckdb).
report: setup
	$(BIN)/python scripts/render_report.py --out target/ltv_report.html

docs: setup
	$(BIN)/dbt docs generate --target duckdb --vars $(DBT_VARS) --static

clean:
	rm -rf target logs dbt_packages warehouse.duckdb
