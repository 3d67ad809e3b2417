"""Every model, seed, source and column is described, and the docs site builds.

Builds the demo on DuckDB, generates the single-file docs site and compares the
manifest's descriptions with the catalog, i.e. with the columns the relations
really have, so an undocumented column fails even if the YAML never names it.
"""

import json
from pathlib import Path

import pytest

from harness import PROJECT_DIR
from harness.dbt_runs import invoke_dbt

DEMO_VARS = '{"ltv_as_of_date": "2026-07-01"}'
DOCUMENTED_TYPES = ("model", "seed", "snapshot")


@pytest.fixture(scope="module")
def docs_artifacts(profiles_dir, tmp_path_factory) -> dict:
    work_dir = tmp_path_factory.mktemp("docs")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DBT_DUCKDB_PATH", str(work_dir / "docs.duckdb"))
        common = [
            "--project-dir", str(PROJECT_DIR),
            "--profiles-dir", str(profiles_dir),
            "--target", "duckdb",
            "--vars", DEMO_VARS,
            "--target-path", str(work_dir / "target"),
            "--log-path", str(work_dir / "logs"),
        ]
        invoke_dbt(["build", "--exclude", "test_type:unit", *common])
        invoke_dbt(["docs", "generate", "--static", *common])
    target = work_dir / "target"
    return {
        "manifest": json.loads((target / "manifest.json").read_text()),
        "catalog": json.loads((target / "catalog.json").read_text()),
        "static_index": target / "static_index.html",
    }


def undocumented(manifest: dict, catalog: dict) -> list:
    """'<node>: <what>' for each node or column without a description."""
    problems = []
    catalog_nodes = {**catalog["nodes"], **catalog["sources"]}
    nodes = [
        node for node in manifest["nodes"].values()
        if node["resource_type"] in DOCUMENTED_TYPES
    ] + list(manifest["sources"].values())
    for node in nodes:
        name = node["unique_id"]
        if not node["description"].strip():
            problems.append(f"{name}: no description")
        documented = {
            column.lower(): spec["description"].strip()
            for column, spec in node["columns"].items()
        }
        actual = catalog_nodes.get(name, {}).get("columns", {})
        for column in actual:
            if not documented.get(column.lower()):
                problems.append(f"{name}: column {column} has no description")
    return problems


def test_every_node_and_column_is_described(docs_artifacts):
    problems = undocumented(docs_artifacts["manifest"], docs_artifacts["catalog"])
    assert not problems, "undocumented:\n" + "\n".join(problems)


def test_catalog_covers_every_model(docs_artifacts):
    models = {
        node_id for node_id, node in docs_artifacts["manifest"]["nodes"].items()
        if node["resource_type"] == "model"
    }
    missing = models - set(docs_artifacts["catalog"]["nodes"])
    assert not missing, f"models missing from the catalog: {sorted(missing)}"


def test_static_docs_site_is_one_self_contained_file(docs_artifacts):
    page: Path = docs_artifacts["static_index"]
    assert page.exists()
    html = page.read_text()
    assert "user_ltv" in html and "ltv_summary" in html
    assert len(html) > 100_000
