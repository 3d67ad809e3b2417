"""dbt runs: in-process (`dbtRunner`) and as a subprocess, the profiles dir, the vars,
reading run_results.json and the manifest, and copies of the project with one change."""

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import NamedTuple

import pytest
from dbt.cli.main import dbtRunner, dbtRunnerResult

from harness import PROJECT_DIR

DBT = str(Path(sys.executable).with_name("dbt"))


def copy_profiles(directory: Path) -> Path:
    """`directory` holding a copy of profiles.yml.example as profiles.yml."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_DIR / "profiles.yml.example", directory / "profiles.yml")
    return directory


@pytest.fixture(scope="session")
def profiles_dir(tmp_path_factory) -> Path:
    return copy_profiles(tmp_path_factory.mktemp("profiles"))


def dbt_vars(as_of: date, source_schema: str, **extra) -> str:
    return json.dumps(
        {
            "ltv_source_schema": source_schema,
            "ltv_as_of_date": as_of.isoformat(),
            **extra,
        }
    )


# ------------------------------------------------------------------------ in-process


def invoke_dbt(args: list) -> dbtRunnerResult:
    """Invoke dbt in-process and fail the test unless the command succeeded."""
    result = dbtRunner().invoke(args)
    assert result.success, f"dbt {' '.join(args)} failed:\n{dbt_failures(result)}"
    return result


def dbt_failures(result: dbtRunnerResult) -> str:
    """The exception, or the nodes that errored or failed, one per line."""
    if result.exception is not None:
        return str(result.exception)
    return "\n".join(
        f"  {node_result.node.name}: {node_result.status}: {node_result.message}"
        for node_result in result.result or []
        if node_result.status in ("error", "fail")
    )


def project_args(target: str, vars_json: str, work_dir: Path,
                 profiles_dir: Path) -> list:
    """The options of a command on one target. Artifacts and logs go to work_dir,
    out of the project's target/ and logs/."""
    return [
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(profiles_dir),
        "--target", target,
        "--vars", vars_json,
        "--target-path", str(work_dir / "target"),
        "--log-path", str(work_dir / "logs"),
    ]


def build_in_process(target: str, vars_json: str, work_dir: Path, profiles_dir: Path,
                     env: dict, *extra_args) -> dbtRunnerResult:
    """`dbt build` on one target with `env` set, which must succeed."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        return invoke_dbt(
            ["build", *project_args(target, vars_json, work_dir, profiles_dir),
             *extra_args]
        )


# ------------------------------------------------------------------------ subprocess


class DbtRun(NamedTuple):
    returncode: int
    output: str
    results: dict  # unique_id -> {"name", "status", "message"}
    target_dir: Path


def path_args(work_dir: Path, name: str, target_dir: Path | None = None) -> list:
    return [
        "--profiles-dir", str(copy_profiles(work_dir / "profiles")),
        "--target-path", str(target_dir or work_dir / name / "target"),
        "--log-path", str(work_dir / name / "logs"),
    ]


def run_dbt(command: list, env: dict, work_dir: Path, name: str,
            timeout: float = 300, project_dir: Path = PROJECT_DIR) -> DbtRun:
    """dbt as a subprocess, as in production, with its paths under work_dir/name."""
    target_dir = work_dir / name / "target"
    return run_process(
        [DBT, *command, "--project-dir", str(project_dir),
         *path_args(work_dir, name, target_dir)],
        env, target_dir, timeout,
    )


def run_process(command: list, env: dict, target_dir: Path, timeout: float) -> DbtRun:
    """A command that runs dbt, and the results dbt wrote to target_dir."""
    completed = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=timeout,
        check=False,
    )
    return DbtRun(
        completed.returncode,
        completed.stdout + completed.stderr,
        read_results(target_dir),
        target_dir,
    )


def read_results(target_dir: Path) -> dict:
    path = target_dir / "run_results.json"
    if not path.exists():
        return {}
    return {
        result["unique_id"]: {
            "name": result["unique_id"].split(".")[2],
            "status": result["status"],
            "message": result.get("message") or "",
        }
        for result in json.loads(path.read_text())["results"]
    }


def failed(results: dict) -> dict:
    """Node name -> message of the nodes that errored or failed."""
    return {
        result["name"]: result["message"]
        for result in results.values()
        if result["status"] in ("error", "fail")
    }


def mart_names(run: DbtRun) -> list:
    """The models of models/marts/, from the manifest of a run."""
    manifest = json.loads((run.target_dir / "manifest.json").read_text())
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["fqn"][1] == "marts"
        and node["config"].get("enabled", True)
    )


# ------------------------------------------------------------------- project copies

# Not part of the dbt project: what a copy leaves out (Python suites, benchmark,
# local state).
NOT_DBT = {".git", "target", "logs", "bench", ".spark", "__pycache__", "scripts"}
PYTHON_SUITES = {"python", "reliability", "spark", "harness", "service"}


def copy_project(destination: Path, change: tuple) -> Path:
    """A copy of the dbt project with one file changed: (path, old text, new text),
    or added when old text is None."""

    def ignored(directory: str, names: list) -> set:
        left_out = {
            name for name in names
            if name in NOT_DBT or name.startswith(".venv") or ".duckdb" in name
        }
        if Path(directory) == PROJECT_DIR / "tests":
            left_out |= PYTHON_SUITES & set(names)
        return left_out

    shutil.copytree(PROJECT_DIR, destination, ignore=ignored)
    path, old, new = change
    if old is None:
        (destination / path).write_text(new)
    else:
        text = (destination / path).read_text()
        assert old in text, f"{path} no longer holds {old!r}"
        (destination / path).write_text(text.replace(old, new, 1))
    return destination
