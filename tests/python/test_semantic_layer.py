"""The MetricFlow semantic layer answers with the numbers of the marts, per engine.

Builds the demo project (its seeds, `ltv_as_of_date` 2026-07-01) on DuckDB and on
PostgreSQL, then runs the `mf` CLI the way an analyst does: `mf validate-configs`,
`mf query --metrics ... --group-by ...` and `mf query --saved-query ...`, and checks
the answers against the marts built in the same run (ltv_summary, ltv_by_channel,
ltv_segments, ltv_cohorts, user_ltv) to an absolute 1e-6.

`mf` takes no target, profile or vars on its command line: it reads the dbt project
from DBT_PROJECT_DIR (or the working directory), the profile from DBT_PROFILES_DIR,
the target and connection from the environment variables profiles.yml reads, and the
semantic manifest from `<project>/target/semantic_manifest.json`, a path it does not
let us change. So the test builds a copy of the project in pytest's tmp dir, where
`target/` and the logs are its own, and runs `dbt` and `mf` from the same virtualenv.

MF_BIN names the `mf` executable (default: the project's .venv/bin/mf); `dbt` is taken
from the same directory. PostgreSQL is reached with the PG* variables, as in
conftest.py; the database `ltv_pytest_semantic` is dropped and recreated.
"""

import csv
import json
import math
import os
import shutil
import subprocess
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from conftest import MART_SCHEMA
from harness import PROJECT_DIR
from harness.warehouses import PostgresWarehouse, Table, rows_as_table

MF_BIN = Path(os.environ.get("MF_BIN", str(PROJECT_DIR / ".venv" / "bin" / "mf")))
DBT_BIN = MF_BIN.with_name("dbt")
DEMO_VARS = {"ltv_as_of_date": "2026-07-01"}
POSTGRES_DATABASE = "ltv_pytest_semantic" + os.environ.get("LTV_TEST_DB_SUFFIX", "")
SEMANTIC_YAML = PROJECT_DIR / "models" / "marts" / "_marts__semantic_models.yml"
HORIZONS = ("3m", "6m", "12m", "lifetime")
# Mart column -> metric name prefix (the metric is <prefix>_<horizon>).
SUMMARY_METRICS = {
    "ltv_mean": "ltv_mean",
    "ltv_median": "ltv_median",
    "active_share": "active_share",
    "aov": "aov",
    "recommended_max_cac": "recommended_max_cac",
}
CHANNEL_METRICS = {
    "eligible_users": "eligible_users",
    "ltv_mean": "ltv_mean",
    "ltv_median": "ltv_median",
    "active_share": "active_share",
    "recommended_max_cac": "recommended_max_cac",
}
# ltv_cohorts at month m (m + 1 months observed) holds the mean revenue of horizon h.
COHORT_MONTH_HORIZONS = {2: "3m", 5: "6m", 11: "12m"}
TOLERANCE = 1e-6
PROJECT_FILES = ("dbt_project.yml", "packages.yml", "dependencies.yml", "selectors.yml")
PROJECT_PATH_KEYS = (
    "model-paths", "macro-paths", "seed-paths", "test-paths", "analysis-paths"
)


# ------------------------------------------------------------------------ warehouses


class DuckDbMarts:
    """The marts in a DuckDB file of our own."""

    def __init__(self, work_dir: Path):
        self.path = work_dir / "semantic.duckdb"

    def dbt_env(self) -> dict:
        return {"DBT_DUCKDB_PATH": str(self.path), "DBT_SCHEMA": MART_SCHEMA}

    def prepare(self) -> None:
        """A fresh file: dbt creates it."""

    def read_table(self, name: str) -> Table:
        # Opened only between commands: `mf` needs the file's lock for itself.
        with duckdb.connect(str(self.path), read_only=True) as connection:
            cursor = connection.execute(f"select * from {MART_SCHEMA}.{name}")
            return rows_as_table(cursor.description, cursor.fetchall())


class PostgresMarts(PostgresWarehouse):
    """The marts in a PostgreSQL database of our own (not conftest's `ltv_pytest`)."""

    def __init__(self):
        super().__init__(POSTGRES_DATABASE, MART_SCHEMA)

    def prepare(self) -> None:
        self.create_database()

    def read_table(self, name: str) -> Table:
        return super().read_table(MART_SCHEMA, name)


# ------------------------------------------------------------------- project and CLI


def copy_project(destination: Path) -> Path:
    """The files dbt reads, copied: the copy's target/ and logs/ are ours alone."""
    destination.mkdir()
    config = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    for name in PROJECT_FILES:
        if (PROJECT_DIR / name).exists():
            shutil.copy(PROJECT_DIR / name, destination / name)
    for key in PROJECT_PATH_KEYS:
        for path in config.get(key, []):
            if (PROJECT_DIR / path).is_dir():
                shutil.copytree(
                    PROJECT_DIR / path,
                    destination / path,
                    ignore=shutil.ignore_patterns("__pycache__", "*.py", "*.pyc"),
                )
    return destination


class SemanticLayer:
    """The demo built on one engine, with `mf` pointed at it."""

    def __init__(self, engine: str, project: Path, env: dict, marts):
        self.engine = engine
        self.project = project
        self.env = env
        self.marts = marts
        self.query_count = 0

    def run(self, executable: Path, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(executable), *args],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def mf(self, *args: str) -> subprocess.CompletedProcess:
        """Run `mf` and fail the test unless it exits 0."""
        result = self.run(MF_BIN, *args)
        assert result.returncode == 0, (
            f"mf {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
        return result

    def query(self, *args: str) -> list:
        """`mf query ARGS` as a list of dicts: numbers as floats, nulls as None."""
        self.query_count += 1
        output = self.project / f"mf_query_{self.query_count}.csv"
        self.mf("query", *args, "--csv", str(output), "--quiet")
        with open(output, newline="") as file:
            return [
                {column: parse_value(value) for column, value in row.items()}
                for row in csv.DictReader(file)
            ]

    def mart(self, name: str) -> list:
        return self.marts.read_table(name).rows


def parse_value(text: str):
    """A CSV cell of mf's output: '' is null, numbers become floats, else text."""
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return text


def close(actual, expected) -> bool:
    """Equal to TOLERANCE, or both null."""
    if actual is None or expected is None:
        return actual is None and expected is None
    return math.isclose(float(actual), float(expected), rel_tol=0, abs_tol=TOLERANCE)


def as_date(value) -> date:
    """A date from a mart value or from mf's '2021-09-01 00:00:00' text."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def mean(values: list):
    return sum(values, Decimal(0)) / len(values) if values else None


def mismatches(pairs: list) -> list:
    """'what: metric X != mart Y' for each (what, metric, mart) that differs."""
    return [
        f"{what}: metric {actual!r} != mart {expected!r}"
        for what, actual, expected in pairs
        if not close(actual, expected)
    ]


# --------------------------------------------------------------------------- fixture


@pytest.fixture(scope="class")
def semantic_layer(engine, profiles_dir, tmp_path_factory) -> SemanticLayer:
    """Copy the project, build the demo with `dbt build`, and point `mf` at it."""
    assert MF_BIN.exists(), (
        f"no mf at {MF_BIN}: install requirements.txt (dbt-metricflow) or set MF_BIN"
    )
    work_dir = tmp_path_factory.mktemp(f"semantic_{engine}")
    project = copy_project(work_dir / "project")
    marts = DuckDbMarts(work_dir) if engine == "duckdb" else PostgresMarts()
    marts.prepare()
    # mf reads <project>/target whatever DBT_TARGET_PATH says: leave it unset.
    env = dict(os.environ)
    env.pop("DBT_TARGET_PATH", None)
    env.update(
        {
            **marts.dbt_env(),
            "DBT_TARGET": engine,
            "DBT_PROFILES_DIR": str(profiles_dir),
            "DBT_PROJECT_DIR": str(project),
            "DBT_LOG_PATH": str(work_dir / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
    )
    layer = SemanticLayer(engine, project, env, marts)
    build = layer.run(
        DBT_BIN,
        "build",
        "--target", engine,
        "--vars", json.dumps(DEMO_VARS),
        "--target-path", str(project / "target"),
        "--log-path", str(work_dir / "logs"),
    )
    assert build.returncode == 0, f"dbt build failed:\n{build.stdout[-6000:]}"
    assert (project / "target" / "semantic_manifest.json").exists()
    return layer


# ----------------------------------------------------------------------------- tests


def test_every_semantic_node_is_described():
    """Semantic models, their entities, dimensions and measures, metrics and saved
    queries all carry a description."""
    spec = yaml.safe_load(SEMANTIC_YAML.read_text())
    problems = []
    for model in spec["semantic_models"]:
        if not str(model.get("description") or "").strip():
            problems.append(f"semantic model {model['name']}")
        for kind in ("entities", "dimensions", "measures"):
            for element in model.get(kind, []):
                if not str(element.get("description") or "").strip():
                    problems.append(f"{model['name']}.{kind}.{element['name']}")
    for kind in ("metrics", "saved_queries"):
        for element in spec[kind]:
            if not str(element.get("description") or "").strip():
                problems.append(f"{kind}.{element['name']}")
    assert not problems, "undescribed: " + ", ".join(problems)


class TestSemanticLayer:
    """One demo build per engine; each test runs `mf` against it."""

    def test_configs_validate_against_the_warehouse(self, semantic_layer):
        result = semantic_layer.mf("validate-configs")
        assert "ERRORS: 0" in result.stdout, result.stdout[-4000:]

    def test_ltv_by_horizon_matches_ltv_summary(self, semantic_layer):
        [row] = semantic_layer.query("--saved-query", "ltv_by_horizon")
        summary = {r["horizon"]: r for r in semantic_layer.mart("ltv_summary")}
        assert set(summary) == set(HORIZONS)
        pairs = []
        for horizon in HORIZONS:
            for column, prefix in SUMMARY_METRICS.items():
                metric = f"{prefix}_{horizon}"
                pairs.append((metric, row[metric], summary[horizon][column]))
        problems = mismatches(pairs)
        assert not problems, "\n".join(problems)

    def test_ltv_mean_12m_by_segment_is_the_mean_over_complete_users(
        self, semantic_layer
    ):
        rows = semantic_layer.query(
            "--metrics", "ltv_mean_12m", "--group-by", "user__ltv_segment"
        )
        revenue = defaultdict(list)
        for user in semantic_layer.mart("user_ltv"):
            if user["is_12m_complete"]:
                revenue[user["ltv_segment"]].append(Decimal(user["revenue_12m"]))
        by_segment = {row["user__ltv_segment"]: row["ltv_mean_12m"] for row in rows}
        assert set(by_segment) == set(revenue)
        problems = mismatches(
            [(name, by_segment[name], mean(values)) for name, values in revenue.items()]
        )
        assert not problems, "\n".join(problems)

    def test_ltv_by_segment_matches_ltv_segments(self, semantic_layer):
        rows = semantic_layer.query("--saved-query", "ltv_by_segment")
        by_segment = {row["user__ltv_segment"]: row for row in rows}
        segments = semantic_layer.mart("ltv_segments")
        # ltv_segments keeps empty segments; the semantic layer has no rows for them.
        assert set(by_segment) == {s["ltv_segment"] for s in segments if s["users"]}
        pairs = []
        for segment in segments:
            if not segment["users"]:
                continue
            metrics = by_segment[segment["ltv_segment"]]
            for column, metric in (
                ("users", "eligible_users_lifetime"),
                ("revenue_lifetime", "total_revenue_lifetime"),
                ("ltv_mean_lifetime", "ltv_mean_lifetime"),
            ):
                what = f"{segment['ltv_segment']} {column}"
                pairs.append((what, metrics[metric], segment[column]))
        problems = mismatches(pairs)
        assert not problems, "\n".join(problems)

    def test_ltv_by_channel_matches_ltv_by_channel(self, semantic_layer):
        rows = semantic_layer.query("--saved-query", "ltv_by_channel")
        by_channel = {row["user__acquisition_channel"]: row for row in rows}
        mart = semantic_layer.mart("ltv_by_channel")
        assert set(by_channel) == {r["acquisition_channel"] for r in mart}
        pairs = []
        for mart_row in mart:
            channel, horizon = mart_row["acquisition_channel"], mart_row["horizon"]
            for column, prefix in CHANNEL_METRICS.items():
                actual = by_channel[channel][f"{prefix}_{horizon}"]
                if column == "eligible_users" and actual is None:
                    actual = 0  # no eligible user: no row before the outer join
                what = f"{channel} {horizon} {column}"
                pairs.append((what, actual, mart_row[column]))
        problems = mismatches(pairs)
        assert not problems, "\n".join(problems)

    def test_where_filter_on_channel_matches_ltv_by_channel(self, semantic_layer):
        mart = {
            row["acquisition_channel"]: row
            for row in semantic_layer.mart("ltv_by_channel")
            if row["horizon"] == "12m" and row["eligible_users"]
        }
        channel = sorted(mart)[0]
        where = "{{ Dimension('user__acquisition_channel') }} = " + f"'{channel}'"
        [row] = semantic_layer.query(
            "--metrics", "ltv_mean_12m,active_share_12m", "--where", where
        )
        expected = mart[channel]
        problems = mismatches(
            [
                ("ltv_mean_12m", row["ltv_mean_12m"], expected["ltv_mean"]),
                ("active_share_12m", row["active_share_12m"], expected["active_share"]),
            ]
        )
        assert not problems, f"channel {channel}:\n" + "\n".join(problems)

    def test_ltv_by_signup_month_matches_ltv_cohorts(self, semantic_layer):
        rows = semantic_layer.query("--saved-query", "ltv_by_signup_month")
        by_month = {as_date(row["user__signup_month__month"]): row for row in rows}
        pairs = []
        for cell in semantic_layer.mart("ltv_cohorts"):
            month = as_date(cell["signup_month"])
            metrics = by_month[month]
            if cell["months_since_signup"] == 0:
                users = metrics["eligible_users_lifetime"]
                pairs.append((f"{month} users", users, cell["cohort_users"]))
            horizon = COHORT_MONTH_HORIZONS.get(cell["months_since_signup"])
            if horizon:
                # The cohort's row exists only when all its users completed the horizon.
                metric = f"ltv_mean_{horizon}"
                expected = cell["ltv_cumulative"]
                pairs.append((f"{month} {metric}", metrics[metric], expected))
        assert any("ltv_mean_12m" in what for what, _, _ in pairs)
        problems = mismatches(pairs)
        assert not problems, "\n".join(problems)

    def test_metric_time_is_the_signup_date(self, semantic_layer):
        rows = semantic_layer.query(
            "--metrics", "eligible_users_lifetime", "--group-by", "metric_time__month"
        )
        counted = {
            as_date(row["metric_time__month"]): row["eligible_users_lifetime"]
            for row in rows
        }
        expected = defaultdict(int)
        for user in semantic_layer.mart("user_ltv"):
            expected[as_date(user["signup_month"])] += 1
        assert counted == dict(expected)
