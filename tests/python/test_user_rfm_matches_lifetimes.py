"""user_rfm equals lifetimes' own summary_data_from_transaction_data on CDNOW.

The spec gives `user_rfm` "exactly the semantics of
lifetimes.utils.summary_data_from_transaction_data" (freq='D', observation end
as_of_date - 1 day), so the reference here is lifetimes itself, not a re-implementation.
lifetimes runs in its own venv (`make lifetimes-venv`), kept out of the project venv:
lifetimes_reference.py, run there, turns the CDNOW transactions shipped with lifetimes
into raw users/orders CSVs plus one lifetimes summary per as-of date.

Per as-of date, a fresh DuckDB file gets the raw tables and `dbt build --select
+user_rfm`; then every user and every column (frequency, recency, T, monetary_value)
must agree to a relative 1e-6. 1998-07-01 is the day after the data ends; 1997-10-01
cuts the data, so orders on or after as_of_date must drop out. CDNOW has same-day
transactions (merged into one purchase) and zero-dollar ones (valid revenue orders).
"""

import csv
import json
import math
import subprocess
from datetime import date
from pathlib import Path

import pytest

from conftest import MART_SCHEMA, RAW_SCHEMA
from harness import PROJECT_DIR
from harness.datasets import Dataset
from harness.dbt_runs import invoke_dbt
from harness.warehouses import DuckDbWarehouse

LIFETIMES_PYTHON = PROJECT_DIR / ".venv-lifetimes" / "bin" / "python"
REFERENCE_SCRIPT = Path(__file__).with_name("lifetimes_reference.py")
AS_OF_DATES = (date(1998, 7, 1), date(1997, 10, 1))
# user_rfm column -> lifetimes column
COLUMNS = {
    "frequency": "frequency",
    "recency": "recency",
    "t": "T",
    "monetary_value": "monetary_value",
}
RELATIVE_TOLERANCE = 1e-6
ABSOLUTE_TOLERANCE = 1e-9  # for the zeros
EXAMPLES_PER_COLUMN = 5


def read_csv(path: Path) -> list:
    """CSV rows as dicts of text, the empty field as None."""
    with open(path, newline="") as file:
        return [
            {name: value or None for name, value in row.items()}
            for row in csv.DictReader(file)
        ]


@pytest.fixture(scope="module")
def lifetimes_dir(tmp_path_factory) -> Path:
    """Raw tables and lifetimes summaries, written by lifetimes_reference.py."""
    if not LIFETIMES_PYTHON.exists():
        pytest.fail(
            f"the lifetimes venv is missing ({LIFETIMES_PYTHON}): "
            "create it with `make lifetimes-venv`"
        )
    out_dir = tmp_path_factory.mktemp("lifetimes")
    command = [str(LIFETIMES_PYTHON), str(REFERENCE_SCRIPT), str(out_dir)]
    process = subprocess.run(
        command + [as_of.isoformat() for as_of in AS_OF_DATES],
        capture_output=True,
        text=True,
    )
    assert process.returncode == 0, f"lifetimes_reference.py failed:\n{process.stderr}"
    return out_dir


@pytest.fixture(scope="module")
def cdnow(lifetimes_dir) -> Dataset:
    return Dataset(
        read_csv(lifetimes_dir / "users.csv"), read_csv(lifetimes_dir / "orders.csv")
    )


def build_user_rfm(dataset: Dataset, as_of: date, profiles_dir, work_dir: Path) -> list:
    """Load the raw tables into a fresh DuckDB file, build user_rfm, read it back."""
    warehouse = DuckDbWarehouse(work_dir, MART_SCHEMA, RAW_SCHEMA)
    warehouse.load_raw(dataset)
    with pytest.MonkeyPatch.context() as env:
        for name, value in warehouse.dbt_env().items():
            env.setenv(name, value)
        invoke_dbt(
            [
                "build",
                "--select", "+user_rfm",
                # Data tests only where every parent is built (not the one that
                # refs user_ltv), and no unit tests: they check fixed fixture rows,
                # not this data, and some need the demo raw schema.
                "--indirect-selection", "cautious",
                "--exclude-resource-type", "unit_test",
                "--project-dir", str(PROJECT_DIR),
                "--profiles-dir", str(profiles_dir),
                "--target", "duckdb",
                "--vars", json.dumps(
                    {"ltv_source_schema": RAW_SCHEMA, "ltv_as_of_date": as_of.isoformat()}
                ),
                "--target-path", str(work_dir / "target"),
                "--log-path", str(work_dir / "logs"),
            ]
        )
    # A build that selects a subset never publishes: user_rfm is its pending table
    # (macros/publish/ltv_pending.sql; DuckDB names it <mart>__pending).
    return warehouse.read_table(MART_SCHEMA, "user_rfm__pending").rows


def differences(expected: dict, actual: dict, as_of: date) -> list:
    """Human-readable differences between lifetimes' rows and user_rfm's, by user_id."""
    problems = []
    missing = sorted(expected.keys() - actual.keys())
    extra = sorted(actual.keys() - expected.keys())
    if missing:
        problems.append(f"{len(missing)} users missing from user_rfm, e.g. {missing[:10]}")
    if extra:
        problems.append(f"{len(extra)} users not in lifetimes' summary, e.g. {extra[:10]}")
    wrong_as_of = [user for user, row in actual.items() if row["as_of_date"] != as_of]
    if wrong_as_of:
        problems.append(f"{len(wrong_as_of)} rows with as_of_date != {as_of}")
    for column, lifetimes_column in COLUMNS.items():
        wrong = [
            (user, float(expected[user][lifetimes_column]), actual[user][column])
            for user in sorted(expected.keys() & actual.keys())
            if actual[user][column] is None
            or not math.isclose(
                float(actual[user][column]),
                float(expected[user][lifetimes_column]),
                rel_tol=RELATIVE_TOLERANCE,
                abs_tol=ABSOLUTE_TOLERANCE,
            )
        ]
        if wrong:
            examples = "; ".join(
                f"user_id={user}: expected {want!r}, got {got!r}"
                for user, want, got in wrong[:EXAMPLES_PER_COLUMN]
            )
            problems.append(f"{column}: {len(wrong)} users differ, e.g. {examples}")
    return problems


@pytest.mark.parametrize("as_of", AS_OF_DATES, ids=str)
def test_user_rfm_matches_lifetimes(as_of, cdnow, lifetimes_dir, profiles_dir, tmp_path):
    expected = {
        int(row["user_id"]): row
        for row in read_csv(lifetimes_dir / f"summary_{as_of.isoformat()}.csv")
    }
    built = build_user_rfm(cdnow, as_of, profiles_dir, tmp_path)
    actual = {row["user_id"]: row for row in built}
    assert len(actual) == len(built), "user_rfm has duplicate user_ids"
    assert expected, "lifetimes' summary is empty"

    problems = differences(expected, actual, as_of)
    assert not problems, f"user_rfm != lifetimes at as_of {as_of}:\n" + "\n".join(
        problems
    )
