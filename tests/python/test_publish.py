"""One build or none: whatever fails in a `dbt build`, and wherever it is killed, the
marts analysts read all come from one build, the new one only when all of it passed.

Per engine, one warehouse for the class, in this order:
1. a good `dbt build` as of OLD publishes the marts;
2. builds as of NEW that fail in each layer: a check before the marts (a revenue
   order without an FX rate), a mart's contract, a mart's SQL (an error at run
   time, after other marts were built), a data test on a mart, and a unit test of
   a mart. The last four run a copy of the project with that one change;
3. builds as of NEW killed (SIGKILL, no cleanup) after the first mart, among the
   marts, and as the switch starts (PostgreSQL's kills with analysts reading
   throughout are tests/reliability/test_rebuilds.py's);
4. a good build as of NEW publishes its marts.
After each step every mart is compared, column by column, with the Python reference
of OLD (steps 2 and 3; the switch kill may also have published all of NEW) or NEW.
"""

import re
import subprocess
import time
from datetime import date
from pathlib import Path

import pytest

from conftest import (
    MARTS,
    POSTGRES_DATABASE,
    RAW_SCHEMA,
    make_warehouse,
    read_channel_cac,
    read_fx_rates,
)
from harness import PROJECT_DIR
from harness.datasets import Dataset, generated_dataset
from harness.dbt_runs import (
    DBT,
    copy_project,
    dbt_vars,
    failed,
    path_args,
    run_process,
)
from reference import compute_marts
from test_marts_match_reference import MART_KEYS, column_differences

OLD, NEW = date(2026, 1, 31), date(2026, 3, 31)
N_USERS = 250
ANSI = re.compile(r"\x1b\[[0-9;]*m")
MART_CREATED = re.compile(r"OK created sql mart model")
# Each failure: (file of the project copy, text in it, its replacement, the node
# that fails). None: the project as it is, on raw data that fails a check.
FAILURES = {
    "check_before_marts": None,
    "mart_contract": (
        "models/marts/order_audit.sql",
        "        source_row_count,",
        "        cast(source_row_count as {{ dbt.type_string() }}) as source_row_count,",
        "order_audit",
    ),
    "mart_sql": (
        "models/marts/ltv_cohorts.sql",
        "cast(cohort_users as bigint) as cohort_users",
        "cast('x' || cast(cohort_users as {{ dbt.type_string() }}) as bigint)"
        " as cohort_users",
        "ltv_cohorts",
    ),
    "mart_data_test": (
        "tests/assert_publish_probe.sql",
        None,
        "select * from {{ ref('ltv_segments') }}",
        "assert_publish_probe",
    ),
    "mart_unit_test": (
        "models/marts/_marts__unit_tests.yml",
        'ltv_segment: "VIP", segment_order: 1,',
        'ltv_segment: "VIP", segment_order: 9,',
        "ltv_segments",  # a unit test's results carry its model's name
    ),
}
# Kill point -> (line pattern, how many matching lines to wait for).
KILLS = {
    "after_first_mart": (MART_CREATED, 1),
    "among_the_marts": (MART_CREATED, 5),
    # The switch runs as dbt renders the hook after this one.
    "as_the_switch_starts": (re.compile(r"START hook: ltv\.on-run-end\.0\b"), 1),
}


def without_fx_rate(dataset: Dataset) -> Dataset:
    """The dataset plus one paid order in a currency without any rate."""
    user = next(
        u for u in dataset.users if u["created_at"] and u["created_at"].date() < OLD
    )
    order = {
        "order_id": 1 + max(o["order_id"] for o in dataset.orders),
        "user_id": user["user_id"],
        "created_at": user["created_at"],
        "updated_at": None,
        "status": "paid",
        "total_amount": "15.00",
        "currency": "XTS",
    }
    return Dataset(dataset.users, [*dataset.orders, order])


class Build:
    """`dbt build` on one warehouse, as a subprocess, as in production."""

    def __init__(self, warehouse, work_dir: Path):
        self.warehouse = warehouse
        self.work_dir = work_dir

    def command(self, name: str, as_of: date, project: Path = PROJECT_DIR,
                source_schema: str = RAW_SCHEMA) -> tuple:
        target_dir = self.work_dir / name / "target"
        command = [
            DBT, "build", "--project-dir", str(project),
            "--vars", dbt_vars(as_of, source_schema),
            *path_args(self.work_dir, name, target_dir),
        ]
        return command, target_dir

    def run(self, name: str, as_of: date, **options):
        command, target_dir = self.command(name, as_of, **options)
        return run_process(command, self.warehouse.env(), target_dir, 600)

    def kill_at(self, name: str, as_of: date, pattern: re.Pattern, count: int) -> list:
        """Start a build, SIGKILL it at the count-th line matching pattern; its lines."""
        command, _ = self.command(name, as_of)
        process = subprocess.Popen(
            command, env={**self.warehouse.env(), "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
            start_new_session=True,
        )
        lines, seen, deadline = [], 0, time.monotonic() + 600
        try:
            for line in process.stdout:
                lines.append(ANSI.sub("", line).rstrip())
                seen += bool(pattern.search(lines[-1]))
                if seen == count or time.monotonic() > deadline:
                    break
        finally:
            process.kill()
            process.wait(timeout=60)
            process.stdout.close()
        assert seen == count, "the build ended before the kill point:\n" + "\n".join(
            lines[-30:]
        )
        return lines

    def marts(self) -> dict:
        return {mart: self.warehouse.read_table(self.warehouse.schema, mart)
                for mart in MARTS}


def differences(expected: dict, marts: dict) -> dict:
    """Mart -> its differences from the reference; empty when every mart matches."""
    found = {}
    for mart in MARTS:
        problems = column_differences(expected[mart], marts[mart], MART_KEYS[mart])
        if problems:
            found[mart] = problems
    return found


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generated_dataset(N_USERS, 11, NEW)


@pytest.fixture(scope="module")
def references(dataset) -> dict:
    return {
        as_of: compute_marts(
            dataset.users, dataset.orders, read_fx_rates(), as_of,
            channel_cac=read_channel_cac(),
        )
        for as_of in (OLD, NEW)
    }


@pytest.fixture(scope="class", params=["duckdb", "postgres"])
def scenario(request, dataset, tmp_path_factory) -> dict:
    """Every step's build and the marts after it, for one engine."""
    work_dir = tmp_path_factory.mktemp(f"publish_{request.param}")
    warehouse = make_warehouse(
        request.param, work_dir, database=f"{POSTGRES_DATABASE}_publish"
    )
    warehouse.load_raw(dataset)
    warehouse.load_raw(without_fx_rate(dataset), schema=f"{RAW_SCHEMA}_fx")
    build = Build(warehouse, work_dir)
    steps = {}
    try:
        steps["old"] = (build.run("old", OLD), build.marts())
        for failure, change in FAILURES.items():
            if change is None:
                run = build.run(failure, NEW, source_schema=f"{RAW_SCHEMA}_fx")
            else:
                project = copy_project(work_dir / f"project_{failure}", change[:3])
                run = build.run(failure, NEW, project=project)
            steps[failure] = (run, build.marts())
        for point, (pattern, count) in KILLS.items():
            steps[point] = (build.kill_at(point, NEW, pattern, count), build.marts())
        steps["new"] = (build.run("new", NEW), build.marts())
    finally:
        if request.param == "postgres":
            warehouse.drop_database()
    return steps


class TestOneBuildOrNone:

    def test_a_good_build_publishes_every_mart(self, scenario, references):
        for step, as_of in (("old", OLD), ("new", NEW)):
            run, marts = scenario[step]
            assert run.returncode == 0, run.output[-3000:]
            assert "Published the" in run.output
            assert differences(references[as_of], marts) == {}

    @pytest.mark.parametrize("failure", list(FAILURES))
    def test_a_failing_node_publishes_nothing(self, scenario, references, failure):
        run, marts = scenario[failure]
        assert run.returncode == 1, run.output[-3000:]
        node = "assert_fx_rate_exists_for_revenue_orders"
        if FAILURES[failure]:
            node = FAILURES[failure][3]
        assert node in failed(run.results), failed(run.results)
        assert "Nothing published" in run.output
        # Every mart still holds the last good build's numbers.
        assert differences(references[OLD], marts) == {}

    @pytest.mark.parametrize("point", list(KILLS))
    def test_a_killed_build_leaves_one_build(self, scenario, references, point):
        lines, marts = scenario[point]
        assert not any("Published the" in line for line in lines)
        old, new = (differences(references[as_of], marts) for as_of in (OLD, NEW))
        if point == "as_the_switch_starts":
            # Killed in its last milliseconds, the switch is all done or not at all.
            assert old == {} or new == {}, (old, new)
        else:
            assert old == {}

    def test_the_failures_were_past_the_first_marts(self, scenario):
        """The failures inside the marts came after other marts were built: without
        the switch, analysts would have read marts of two builds."""
        for failure in ("mart_contract", "mart_sql", "mart_data_test"):
            run, _ = scenario[failure]
            built = [r for r in run.results.values()
                     if r["status"] == "success" and r["name"] in MARTS]
            assert built, failure
