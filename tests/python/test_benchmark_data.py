"""The benchmark's generated data (bench/generate.py) end before the delta, and before now.

The refresh measured in step (d) finds changes by their stamps and re-takes every row
stamped after the run's start: data stamped in the future would make it recompute
users the delta never touched, and the result would depend on the day it ran.
"""

import datetime
import sys

import duckdb
import pytest

from harness import PROJECT_DIR

sys.path.insert(0, str(PROJECT_DIR / "bench"))
import generate  # noqa: E402  (bench/ is not a package)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench_data")
    info = generate.generate_files(out, 3_000, seed=7, as_of=datetime.date(2026, 7, 1))
    return out, info


def scalar(con, csv_file, expression):
    query = f"select {expression} from read_csv('{csv_file}', header = true)"
    return con.execute(query).fetchone()[0]


def test_data_end_four_months_after_the_as_of_date(generated):
    _, info = generated
    assert info["data_ends"] == "2026-10-31"


def test_no_stamp_after_the_data_end_and_the_delta_after_it(generated):
    out, info = generated
    end = datetime.datetime.fromisoformat(info["data_ends"]) + datetime.timedelta(days=1)
    with duckdb.connect() as con:
        assert scalar(con, out / "users.csv", "max(created_at)") < end
        assert scalar(con, out / "orders.csv", "max(greatest(created_at, updated_at))") < end
        assert scalar(con, out / "orders_delta.csv", "min(updated_at)") >= end
    assert end <= datetime.datetime.now(), "the default data must end before any run"


def test_a_later_as_of_date_keeps_the_demo_calendar():
    bounds = generate.export_bounds(datetime.date(2026, 12, 1))
    assert bounds.last_order == generate._day(generate.demo.LAST_ORDER_DATE)
    assert bounds.last_signup == generate._day(generate.demo.LAST_SIGNUP_DATE)
