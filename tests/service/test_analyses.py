"""The example analyses (analyses/): each compiles with its defaults and returns rows
on the demo. Moved here with the user list: the demo it needs is built here."""

from harness import PROJECT_DIR
from harness.dbt_runs import failed, run_dbt

from service.conftest import DEMO_VARS


def test_every_analysis_returns_rows_on_the_demo_with_its_defaults(demos, tmp_path):
    demo = demos("duckdb")
    run = run_dbt(["compile", "--target", "duckdb", "--vars", DEMO_VARS,
                   "--select", "resource_type:analysis"],
                  demo.warehouse.env(), tmp_path, "compile")  # fmt: skip
    assert run.returncode == 0, failed(run.results) or run.output[-3000:]
    analyses = sorted((run.target_dir / "compiled" / "ltv" / "analyses").glob("*.sql"))
    assert len(analyses) == len(list((PROJECT_DIR / "analyses").glob("*.sql")))
    empty = [path.name for path in analyses if not demo.warehouse.query(path.read_text())]
    assert not empty, empty
