"""Every model, seed, source and column is described, and the docs site builds.

Builds the demo on DuckDB, generates the single-file docs site and compares the
manifest's descriptions with the catalog, i.e. with the columns the relations
really have, so an undocumented column fails even if the YAML never names it.
"""

import json
import re
from pathlib import Path

import pytest

from harness import PROJECT_DIR
from harness.dbt_runs import invoke_dbt

DEMO_VARS = '{"ltv_as_of_date": "2026-07-01"}'
DOCUMENTED_TYPES = ("model", "seed", "snapshot")

# The Code tab of the docs site highlights raw SQL with Prism's SQL grammar, which
# knows no Jinja: comments (`--`, `/* */`, and `#` to the end of the line, so the
# first line of a `{# ... #}` block) are matched first, then strings, greedily. A
# quote in the later lines of a Jinja comment ("the shop's") opens a string that
# runs to the next quote lines below and renders the code between as overlapping text.
PRISM_COMMENT = re.compile(r"/\*[\s\S]*?\*/|(?:--|//|#).*")
PRISM_STRING = re.compile(r"""("|')(?:\\[\s\S]|(?!\1)[^\\]|\1\1)*\1|`(?:\\[\s\S]|[^`\\]|``)*`""")
CODE_PAGES = ("models/**/*.sql", "analyses/*.sql", "tests/*.sql", "tests/reconciliation/*.sql")


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


# Issue #30, lineage: the layers read left to right. Marts are what a build publishes;
# nothing upstream of them reads one, and what reads the fit (the fit table, the demo
# fit) is an intermediate model, upstream of every mart.
BELOW_MARTS = ("models/staging/", "models/intermediate/")
FIT_NODES = ("source.ltv.clv.clv_fits", "seed.ltv.demo_clv_fit")


def lineage_problems(manifest: dict) -> list:
    """'<model> reads <node>' for each model below the marts that reads a mart, and
    each mart that reads the fit itself."""
    nodes = manifest["nodes"]
    models = {
        node_id: node for node_id, node in nodes.items()
        if node["resource_type"] == "model"
    }
    marts = {
        node_id for node_id, node in models.items()
        if node["original_file_path"].startswith("models/marts/")
    }
    problems = []
    for node in models.values():
        reads = node["depends_on"]["nodes"]
        if node["original_file_path"].startswith(BELOW_MARTS):
            problems += [f"{node['name']} reads the mart {models[mart]['name']}"
                         for mart in reads if mart in marts]
        if node["unique_id"] in marts:
            problems += [f"the mart {node['name']} reads the fit {fit}"
                         for fit in reads if fit in FIT_NODES]
    return sorted(problems)


def test_no_model_below_the_marts_reads_a_mart(docs_artifacts):
    problems = lineage_problems(docs_artifacts["manifest"])
    assert not problems, "lineage against the layers:\n" + "\n".join(problems)


def test_static_docs_site_is_one_self_contained_file(docs_artifacts):
    page: Path = docs_artifacts["static_index"]
    assert page.exists()
    html = page.read_text()
    assert "user_ltv" in html and "ltv_summary" in html
    assert len(html) > 100_000


def strings_across_lines(code: str) -> list:
    """Lines where Prism's SQL grammar starts a string that spans several lines."""
    comments = [match.span() for match in PRISM_COMMENT.finditer(code)]
    lines, position = [], 0
    while True:
        comment = next((span for span in comments if span[0] >= position), None)
        string = PRISM_STRING.search(code, position)
        if string and (comment is None or string.start() < comment[0]):
            if "\n" in string.group(0):
                lines.append(code.count("\n", 0, string.start()) + 1)
            position = string.end()
        elif comment:
            position = comment[1]
        else:
            return lines


def test_strings_across_lines_finds_a_quote_in_a_jinja_comment():
    assert strings_across_lines("{#-\n    the shop's rates\n-#}\nselect 'a'\n") == [2]
    assert strings_across_lines("{#-\n    the rates of the shop\n-#}\nselect 'a'\n") == []
    assert strings_across_lines("-- the shop's rates\nselect 'a', \"b\"\n") == []


def test_the_docs_site_renders_every_model_code_readably():
    broken = {
        str(path.relative_to(PROJECT_DIR)): lines
        for pattern in CODE_PAGES for path in sorted(PROJECT_DIR.glob(pattern))
        if (lines := strings_across_lines(path.read_text()))
    }
    assert not broken, (
        "a quote (' \" `) inside a Jinja comment makes the Code tab of the docs site "
        f"render the lines after it as one string (file: first lines): {broken}"
    )
