"""dbt commands as benchmark steps: their node times, longest chain and bounds."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path


from common import DBT, PROJECT_DIR, RAW_SCHEMA
from timing import project_state, run_measured


def dbt_command(verb: str, engine: str, ctx: dict, extra: list | None = None) -> list:
    return [
        DBT, verb,
        "--project-dir", ctx.get("project_dir", PROJECT_DIR),
        "--profiles-dir", ctx["profiles_dir"],
        "--target", engine,
        "--vars", json.dumps(
            {"ltv_source_schema": RAW_SCHEMA, "ltv_as_of_date": ctx["as_of"]}
        ),
        "--target-path", ctx["work_dir"] / engine / "target",
        "--log-path", ctx["work_dir"] / engine / "logs",
        *(extra or []),
    ]  # fmt: skip


MODEL_LINE = re.compile(
    r"OK created sql (\w+) model [\w\"]+\.([\w\"]+) .*\[.* in ([\d.]+)s\]"
)


def node_name(unique_id: str) -> str:
    """model.ltv.user_ltv -> user_ltv; test.ltv.unique_user_ltv_user_id.3f2a -> its name."""
    parts = unique_id.split(".")
    return parts[2] if parts[0] == "test" else parts[-1]


def dbt_step(
    name: str, verb: str, engine: str, ctx: dict, extra: list | None = None
) -> dict:
    """Run one dbt command; keep its run_results.json and summarize the node times."""
    target = ctx["work_dir"] / engine / "target"
    results_file = target / "run_results.json"
    if results_file.exists():
        results_file.unlink()
    models_sha256 = project_state()["models_sha256"]
    result = run_measured(
        name,
        dbt_command(verb, engine, ctx, extra),
        ctx["env"],
        ctx["timeout"],
        ctx["work_dir"] / engine / "logs",
        ctx["pg_database"] if engine == "postgres" else None,
    )
    result["models_sha256"] = models_sha256
    if project_state()["models_sha256"] != models_sha256:
        result["models_changed_during_run"] = True
    if results_file.exists():
        kept = ctx["work_dir"] / engine / f"run_results_{name}.json"
        shutil.copy(results_file, kept)
        run_results = json.loads(results_file.read_text())
        nodes = [
            {
                "model": node_name(r["unique_id"]),
                "unique_id": r["unique_id"],
                "status": r["status"],
                "execution_time_s": round(r["execution_time"], 2),
                "rows": (r.get("adapter_response") or {}).get("rows_affected"),
                "compiled_code": r.get("compiled_code"),
            }
            for r in run_results["results"]
        ]
        result["elapsed_time_s"] = round(run_results["elapsed_time"], 2)
        result["sum_node_execution_s"] = round(sum(n["execution_time_s"] for n in nodes), 2)
        result["nodes"] = sorted(nodes, key=lambda n: -n["execution_time_s"])
        result["nodes_failed"] = [n["model"] for n in nodes if n["status"] != "success"]
        manifest = json.loads((target / "manifest.json").read_text())
        for node in nodes:
            config = manifest["nodes"].get(node["unique_id"], {}).get("config", {})
            node["materialized"] = config.get("materialized")
        result["threads"] = len(  # the hooks run on dbt's main thread
            {r["thread_id"] for r in run_results["results"] if r["unique_id"].startswith("model.")}
        )
        result["critical_path"] = critical_path(nodes, manifest)
        result["whole_table_models_s"] = round(
            sum(n["execution_time_s"] for n in nodes
                if n["materialized"] in ("table", "mart")), 2
        )
    else:  # timeout or crash: the models that finished, from the console log
        text = Path(result["stdout"]).read_text()
        result["nodes"] = sorted(
            (
                {"model": m.group(2).strip('"'), "status": "success",
                 "materialized": m.group(1), "execution_time_s": float(m.group(3))}
                for m in MODEL_LINE.finditer(text)
            ),
            key=lambda n: -n["execution_time_s"],
        )  # fmt: skip
    return result


def critical_path(nodes: list, manifest: dict) -> dict:
    """The run's longest chain of dependent nodes by execution time: no thread count
    finishes the run sooner, whatever the other nodes cost."""
    seconds = {n["unique_id"]: n["execution_time_s"] for n in nodes}
    longest: dict = {}  # unique_id -> (seconds of the chain ending there, the chain)

    def chain(uid: str) -> tuple:
        if uid not in longest:
            parents = manifest["nodes"].get(uid, {}).get("depends_on", {}).get("nodes", [])
            before = max((chain(p) for p in parents if p in seconds), default=(0, []))
            longest[uid] = (before[0] + seconds[uid], before[1] + [uid])
        return longest[uid]

    total, path = max((chain(uid) for uid in seconds), default=(0, []))
    return {"seconds": round(total, 2), "nodes": [node_name(uid) for uid in path]}


def floor_lines(a: dict | None, b: dict | None, d: dict | None) -> list:
    """The bounds this model graph puts on the ratios, from the runs' own node times."""
    lines = []
    path = (a or {}).get("critical_path")
    if path and (b or {}).get("statement_s"):
        lines.append(
            f"- (a)'s longest chain of dependent models took {path['seconds']} s "
            f"({' → '.join(path['nodes'])}): on any number of threads, (a)/(b) ≥ "
            f"{path['seconds'] / b['statement_s']:.2f} with these models as they ran."
        )
    if (d or {}).get("whole_table_models_s") and (a or {}).get("elapsed_time_s"):
        floor_s = d["whole_table_models_s"] / d["threads"]
        lines.append(
            f"- (d) rebuilt its whole-table models (every mart row carries as_of_date; "
            f"user_ltv ranks every user) in {d['whole_table_models_s']} s of node time, "
            f"at least {floor_s:.2f} s on {d['threads']} threads: (d)/(a) ≥ "
            f"{floor_s / a['elapsed_time_s']:.2f} even if the incremental models cost nothing."
        )
    return lines


# The models whose time is the CLV scoring: the fit's choice and its parameters, the
# series per distinct (frequency, t), and the users' scores.
CLV_SCORING_MODELS = (
    "int_clv_fit_chosen", "clv_model_parameters", "int_rfm_groups_scored", "user_clv",
)


def clv_scoring(fit: dict, a: dict) -> dict:
    """The fit's time, and the scoring models' execution_time in (a) over (a)'s."""
    nodes = {n["model"]: n for n in a.get("nodes", [])}
    by_model = {
        m: nodes[m]["execution_time_s"] for m in CLV_SCORING_MODELS if m in nodes
    }
    out = {
        "fit_status": fit["status"],
        "fit_wall_s": fit.get("wall_s"),
        "fit_build_s": (fit.get("steps_s") or {}).get("build_s"),
        "fit_own_work_s": fit.get("own_work_s"),
        "fit_client_cpu_s": fit.get("client_cpu_s"),
        "fit_load_average": fit.get("load_average_at_start"),
        "scoring_s_by_model": by_model,
        "scoring_s": round(sum(by_model.values()), 2),
        "user_clv_rows": (nodes.get("user_clv") or {}).get("rows"),
        "series_groups": (nodes.get("int_rfm_groups_scored") or {}).get("rows"),
        "target_ratio": 0.25,
    }
    if a.get("elapsed_time_s"):
        out["ratio_scoring_over_a"] = round(out["scoring_s"] / a["elapsed_time_s"], 3)
    return out


def top_models(step: dict, n: int = 5) -> list:
    return [
        {k: node.get(k) for k in ("model", "materialized", "execution_time_s", "rows", "status")}
        for node in step.get("nodes", [])[:n]
    ]

