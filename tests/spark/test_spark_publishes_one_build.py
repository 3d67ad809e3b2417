"""On Spark too, a `dbt build` that fails publishes nothing, and a switch cut short is
finished by the next dbt command.

Spark has no transaction over several tables, so its guarantee is narrower than
PostgreSQL's and DuckDB's (README, "One build or none"): a build that fails, or is
killed, before its last hook leaves every mart of the last good build; the switch
renames mart after mart, and one killed halfway is finished by the next invocation
before it runs anything. Checked after the demo build of conftest.py: a build of a
copy of the project whose one extra data test on a mart fails, as of another date;
then half of that build's pending marts renamed in by hand under a `switching`
record, as a killed switch leaves them, and one `dbt test`.
"""

import json

import pytest
import yaml
from dbt.cli.main import dbtRunner

from conftest import DEMO_VARS, MARTS, SCHEMA
from harness import PROJECT_DIR
from harness.dbt_runs import copy_project

pytest.importorskip("pyspark", reason="the Spark suite runs in .venv-spark")

OTHER_AS_OF = "2026-06-01"
# The on-run-end hook that switches the marts in, from its place in dbt_project.yml.
SWITCH_HOOK = "operation.ltv.ltv-on-run-end-{}".format(next(
    index for index, hook in enumerate(yaml.safe_load(
        (PROJECT_DIR / "dbt_project.yml").read_text()
    )["on-run-end"]) if "ltv_publish" in hook
))


def read_marts(session) -> dict:
    return {
        name: sorted(map(str, session.table(f"{SCHEMA}.{name}").collect()))
        for name in MARTS
    }


@pytest.fixture(scope="module")
def failed_build(spark_build, profiles_dir, tmp_path_factory):
    """The marts before and after a failing build, and that build's result."""
    from pyspark.sql import SparkSession

    session = SparkSession.builder.getOrCreate()
    before = read_marts(session)
    work_dir = tmp_path_factory.mktemp("spark_failing")
    project = copy_project(work_dir / "project", (
        "tests/assert_publish_probe.sql", None,
        "select * from {{ ref('ltv_segments') }}",
    ))
    # The Spark session of the demo build (this process's) serves this one too.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DBT_SCHEMA", SCHEMA)
        result = dbtRunner().invoke([
            "build", "--project-dir", str(project),
            "--profiles-dir", str(profiles_dir), "--target", "spark",
            "--vars", json.dumps({**DEMO_VARS, "ltv_as_of_date": OTHER_AS_OF}),
            "--target-path", str(work_dir / "target"),
            "--log-path", str(work_dir / "logs"),
        ])
    after = read_marts(session)
    log = session.sql(
        f"select is_published, detail from {SCHEMA}.ltv_builds order by finished_at"
    ).collect()
    return before, after, result, log


def test_a_failing_build_leaves_the_last_good_marts(failed_build):
    before, after, result, log = failed_build
    assert not result.success
    failed = {r.node.name for r in result.result if r.status in ("fail", "error")}
    assert failed == {"assert_publish_probe"}
    # Every mart is the demo build's, row for row: none of the failed build's.
    assert after == before
    assert [tuple(row) for row in log][-1][0] is False


def test_the_demo_build_was_published_by_its_switch(spark_build, failed_build):
    (switch,) = [
        r for r in spark_build.run_results["results"] if r["unique_id"] == SWITCH_HOOK
    ]
    print(f"Spark switch of the marts: {switch['execution_time']:.2f} s")
    assert switch["status"] == "success"
    # Recorded as switching first, so that a switch cut short is seen and finished.
    log = [tuple(row) for row in failed_build[3]]
    assert log[:2] == [(False, "switching"), (True, "every node passed")]


@pytest.fixture(scope="module")
def finished_switch(failed_build, profiles_dir, tmp_path_factory):
    """As-of dates per mart after a switch cut short and the next `dbt test`."""
    from pyspark.sql import SparkSession

    session = SparkSession.builder.getOrCreate()
    session.sql(
        f"insert into {SCHEMA}.ltv_builds values ('killed', 'build', "
        "current_timestamp(), current_timestamp(), "
        f"date'{OTHER_AS_OF}', false, 'switching')"
    )
    for name in MARTS[: len(MARTS) // 2]:
        session.sql(f"drop table {SCHEMA}.{name}")
        session.sql(f"alter table {SCHEMA}.{name}__pending rename to {SCHEMA}.{name}")
    work_dir = tmp_path_factory.mktemp("spark_next")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DBT_SCHEMA", SCHEMA)
        result = dbtRunner().invoke([
            "test", "--select", "not_null_user_ltv_user_id",
            "--project-dir", str(PROJECT_DIR),
            "--profiles-dir", str(profiles_dir), "--target", "spark",
            "--vars", json.dumps(DEMO_VARS),
            "--target-path", str(work_dir / "target"),
            "--log-path", str(work_dir / "logs"),
        ])
    dates = {
        name: {str(row[0]) for row in session.sql(
            f"select distinct as_of_date from {SCHEMA}.{name}"
        ).collect()}
        for name in MARTS if name != "clv_model_parameters"
    }
    return result, dates


def test_the_next_command_finishes_a_switch_cut_short(finished_switch):
    result, dates = finished_switch
    assert result.success
    # Every mart is the switched build's now, none left from before.
    assert all(found <= {OTHER_AS_OF} for found in dates.values()), dates
    assert any(found for found in dates.values())
