#!/usr/bin/env python3
"""Benchmark of the LTV dbt project on DuckDB and PostgreSQL at scale.

Run with the project's virtualenv (dbt, duckdb, pandas, psycopg2, psutil):

    .venv/bin/python bench/run_benchmark.py [--users 1000000] [--work-dir /tmp/ltv_bench]

Steps (see bench/README.md):
  data  generate N users' raw users/orders (dirty, bench/generate.py) as CSV, once;
  load  bulk-load them into DuckDB (read_csv) and PostgreSQL (COPY), schema bench_raw;
  fit   scripts/fit_clv.py (`make fit-clv`): its build of what it reads, then its own
        work (read the grouped rows, fit twice, store), each timed; then lifetimes
        (its own venv) fits the rows it read, beside our fit of them (--fit-only:
        this and (a), results users_N_clv.md);
  (a)   `dbt run` of all models: process wall time and the models' own time
        (run_results.json elapsed_time; per-model execution_time, top 5), the CLV
        scoring models' time over it;
  (b)   one hand-written statement (bench/expert_user_ltv.sql) computing user_ltv's
        revenue and order columns from the raw tables, as `create table`;
  (c)   pandas computing the same columns from the CSV files (bench/pandas_ltv.py);
  (d)   append 1% new orders and new versions (refund, late payment) of 0.1% of the
        existing ones, then `dbt run` again: the day's refresh; the expert statement
        on the new raw data must then equal user_ltv for every user;
  (e)   `dbt build` after (d): every test and the switch (reported, not in the ratios);
  user list on PostgreSQL after (e): the grid of bench/query_grid.py (pages and
        totals as the service answers them, from its copy of the marts), the slowest
        printed; each index's cost;
  analyst queries on PostgreSQL's marts (median after a warm-up, EXPLAIN each).

Results: printed, and written to bench/results/users_N.md and users_N.json (plus the
EXPLAIN ANALYZE of the slowest model per engine next to them).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

import api_timing  # noqa: E402  (beside this file)
import query_grid  # noqa: E402  (beside this file)
from analyst_queries import time_analyst_queries
from common import (
    BENCH_DIR, LIFETIMES_PYTHON, LIFETIMES_VERSION, DBT_SCHEMA, ENGINES, PROJECT_DIR, PYTHON, RAW_SCHEMA, connection_settings,
    log, pg_connect, pg_query,
)
from dbt_steps import (  # noqa: F401
    clv_scoring, critical_path, dbt_command, dbt_step, floor_lines,
)
from render import render_markdown
from sql_steps import (
    checks_match, expert_session_settings, expert_sql, explain_expert, explain_slowest,
    load_steps, models_setting_label, validation_steps,
)
from timing import machine_info, project_state, run_measured, sql_job


def prepare_data(args, work_dir: Path) -> dict:
    data_dir = work_dir / "data"
    manifest_path = data_dir / "manifest.json"
    # The generator's own hash too: CSVs of an older generator are not reused.
    generator = hashlib.sha256((BENCH_DIR / "generate.py").read_bytes()).hexdigest()[:16]
    wanted = {
        "users": args.users, "seed": args.seed, "as_of": args.as_of, "generator": generator
    }
    if args.reuse_data and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("params") == wanted:
            log(f"data: reusing {data_dir}")
            manifest["reused"] = True
            return manifest
    if data_dir.exists():
        shutil.rmtree(data_dir)
    sys.path.insert(0, str(BENCH_DIR))
    import generate

    log(f"data: generating {args.users:,} users into {data_dir}")
    start = time.perf_counter()
    info = generate.generate_files(
        data_dir, args.users, args.seed, datetime.date.fromisoformat(args.as_of)
    )
    info["generate_and_write_s"] = round(time.perf_counter() - start, 1)
    info["csv_mb"] = {
        p.name: round(p.stat().st_size / 2**20, 1) for p in sorted(data_dir.glob("*.csv"))
    }
    manifest = {"params": wanted, **info}
    manifest_path.write_text(json.dumps(manifest, indent=1))
    log(
        f"data: {info['raw_order_rows']:,} raw order rows "
        f"({info['logical_orders']:,} logical) in {info['generate_and_write_s']}s"
    )
    return manifest


def time_list_grid(ctx: dict, runs: int) -> dict:
    """Copy the published marts as the service does (timed), then time the grid."""
    from serve.app.core.config import Settings
    from serve.app.core.snapshot import PostgresSource

    server = connection_settings()
    settings = Settings(
        dbt_target="postgres", dbt_schema=DBT_SCHEMA, pghost=server["host"],
        pgport=int(server["port"]), pguser=server["user"],
        pgpassword=server["password"], pgdatabase=ctx["pg_database"],
    )  # fmt: skip
    source = PostgresSource(settings)
    start = time.perf_counter()
    snapshot = source.load(source.version())
    load_s = round(time.perf_counter() - start, 2)
    return {"status": "ok", "snapshot_load_s": load_s,
            **query_grid.time_grid(snapshot, query_grid.grid(), runs)}  # fmt: skip


def print_grid(grid: dict) -> None:
    """The grid's slowest cells and its totals, as `--grid-only` prints them."""
    if grid.get("status") != "ok":
        log(f"grid: {grid}")
        return
    log(f"grid: {grid['cells']} cells, {grid['over_target']} at or over 50 ms; "
        f"load average {os.getloadavg()}")  # fmt: skip
    for cell in grid["slowest"][:10]:
        log(f"  {cell['filter']} | {cell['sort']} {cell['direction']} | page "
            f"{cell['page']} of {cell['page_size']}: page {cell['page_ms']} ms + "
            f"total {cell['total_ms']} ms = {cell['ms']} ms")  # fmt: skip


def switch_hook() -> str:
    """The id in run_results.json of the on-run-end hook that switches the marts in
    (macros/publish/ltv_publish.sql), from its place in dbt_project.yml."""
    hooks = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["on-run-end"]
    index = next(i for i, hook in enumerate(hooks) if "ltv_publish" in hook)
    return f"operation.ltv.ltv-on-run-end-{index}"


SWITCH_HOOK = switch_hook()


def publish_steps(engine: str, ctx: dict, res: dict) -> dict:
    """--publish-only: two `dbt build`s, the first publishing into an empty schema,
    the second replacing those marts, as a daily build does: the switch's seconds."""
    for step in ("e_first_build", "e_dbt_build"):
        log(f"{engine}: {step}")
        res[step] = dbt_step(step, "build", engine, ctx)
        res[f"{step}_switch_s"] = next(
            (n["execution_time_s"] for n in res[step].get("nodes", [])
             if n["unique_id"] == SWITCH_HOOK), None,
        )
        log(f"  {res[step]['status']}: wall {res[step]['wall_s']}s, "
            f"switch {res[f'{step}_switch_s']}s")
    res["publish_switch_s"] = res["e_dbt_build_switch_s"]
    return res


def baseline_build(engine: str, ctx: dict, commit: str) -> dict:
    """`dbt build` of the project at `commit` (a temporary git worktree) on the same raw
    data, into schemas of its own: the baseline of --api-only's build."""
    checkout = ctx["work_dir"] / "baseline_project"
    subprocess.run(["git", "worktree", "remove", "--force", checkout], cwd=PROJECT_DIR,
                   capture_output=True)  # fmt: skip
    subprocess.run(["git", "worktree", "add", "--detach", checkout, commit], cwd=PROJECT_DIR,
                   check=True, capture_output=True)  # fmt: skip
    baseline = {**ctx, "project_dir": checkout,
                "env": {**ctx["env"], "DBT_SCHEMA": DBT_SCHEMA + "_baseline"}}  # fmt: skip
    try:
        result = dbt_step("baseline_dbt_build", "build", engine, baseline)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", checkout], cwd=PROJECT_DIR,
                       capture_output=True)  # fmt: skip
    result["commit"] = commit
    return result


def api_steps(engine: str, ctx: dict, res: dict) -> dict:
    """--api-only: one `dbt build` (on PostgreSQL after the baseline's, with
    --baseline-commit), then the service over its marts, timed over HTTP."""
    if ctx["baseline_commit"] and engine == "postgres":
        log(f"{engine}: dbt build of the baseline {ctx['baseline_commit']}")
        res["baseline_dbt_build"] = baseline_build(engine, ctx, ctx["baseline_commit"])
        log(f"  {res['baseline_dbt_build']['status']}: wall "
            f"{res['baseline_dbt_build']['wall_s']}s")  # fmt: skip
    log(f"{engine}: dbt build")
    res["e_dbt_build"] = dbt_step("e_dbt_build", "build", engine, ctx)
    log(f"  {res['e_dbt_build']['status']}: wall {res['e_dbt_build']['wall_s']}s")
    log(f"{engine}: the service over HTTP")
    res["api"] = api_timing.time_api(engine, ctx, max(ctx["analyst_runs"], 1))
    for line in api_timing.api_lines(engine, res["api"]):
        log(line)
    return res


def run_engine(engine: str, ctx: dict, pandas_checks: dict | None) -> dict:
    res: dict = {"engine": engine}
    data_dir = ctx["work_dir"] / "data"
    log(f"{engine}: fresh warehouse")
    if engine == "duckdb":
        for suffix in ("", ".wal"):
            Path(str(ctx["duckdb_path"]) + suffix).unlink(missing_ok=True)
        ctx["duckdb_path"].parent.mkdir(parents=True, exist_ok=True)
    else:
        pg_query("postgres", f"drop database if exists {ctx['pg_database']} with (force)")
        pg_query("postgres", f"create database {ctx['pg_database']}")
    shutil.rmtree(ctx["work_dir"] / engine / "target", ignore_errors=True)

    log(f"{engine}: bulk load of the raw tables")
    res["load"] = sql_job("load", engine, load_steps(engine, data_dir), ctx)
    if res["load"]["status"] != "ok":
        return res

    log(f"{engine}: dbt seed (fx_rates, channel_cac; setup, not measured)")
    res["seed"] = dbt_step("seed", "seed", engine, ctx)
    res["seed"].pop("nodes", None)
    if res["seed"]["status"] != "ok":
        return res
    if ctx["publish_only"]:
        return publish_steps(engine, ctx, res)
    if ctx["api_only"]:
        return api_steps(engine, ctx, res)
    fit_steps(engine, ctx, res)
    if ctx["fit_only"]:
        return res
    a = res["a_dbt_run"]

    log(f"{engine}: (b) expert SQL")
    drop = {"name": "drop", "sql": f"drop table if exists {DBT_SCHEMA}.bench_expert"}
    steps = [drop, {"name": "create", "sql": expert_sql(engine, ctx)}]
    if expert_session_settings(engine):  # again with the models' settings: the best counts
        steps += [drop, *expert_session_settings(engine),
                  {"name": "create_with_model_settings", "sql": expert_sql(engine, ctx)}]
    res["b_expert_sql"] = sql_job("b_expert_sql", engine, steps, ctx)
    b = res["b_expert_sql"]
    if b["status"] == "ok":
        times = {"server default": b["steps"]["create"]["seconds"]}
        if "create_with_model_settings" in b["steps"]:
            times[models_setting_label()] = b["steps"]["create_with_model_settings"]["seconds"]
        b["statement_s_by_setting"] = {k: round(v, 2) for k, v in times.items()}
        b["setting"] = min(times, key=times.get)
        b["statement_s"] = round(times[b["setting"]], 2)
    log(
        f"  (b) {b['status']}: wall {b['wall_s']}s, statement {b.get('statement_s')}s "
        f"(by setting: {b.get('statement_s_by_setting')})"
    )

    if a["status"] == "ok" and b["status"] == "ok":
        check = sql_job("validate", engine, validation_steps(engine), ctx)
        if check["status"] == "ok":
            res["validation"] = {
                "users_differing_from_user_ltv": int(
                    check["steps"]["mismatching_users"]["rows"][0][0]
                ),
                "expert_checksums": check["steps"]["expert_checksums"]["rows"][0],
                "matches_pandas": checks_match(
                    check["steps"]["expert_checksums"]["rows"][0], pandas_checks
                ),
            }
            log(f"  validation: {res['validation']}")

    if b["status"] == "ok" and ctx["explain"]:
        res["explain_expert"] = explain_expert(engine, ctx, b.get("setting"))

    if a["status"] == "ok" and ctx["explain"]:
        log(f"{engine}: EXPLAIN ANALYZE of the {ctx['explain']} slowest models")
        res["explain_slowest"] = explain_slowest(engine, a, ctx, ctx["explain"])

    if a["status"] != "ok":
        res["d_note"] = "skipped: (a) did not finish"
        return res
    log(f"{engine}: (d) append the delta, then dbt run")
    res["d_load_delta"] = sql_job("d_load_delta", engine, load_steps(engine, data_dir, True), ctx)
    res["d_dbt_run"] = dbt_step("d_dbt_run", "run", engine, ctx)
    d = res["d_dbt_run"]
    log(f"  (d) {d['status']}: wall {d['wall_s']}s, models {d.get('elapsed_time_s')}s")
    if d["status"] == "ok":
        # Not timed: the expert statement again, on the raw data with the delta, must
        # give what the refresh left in user_ltv, user by user.
        steps = [drop, {"name": "create", "sql": expert_sql(engine, ctx)},
                 validation_steps(engine)[0]]
        check = sql_job("validate_d", engine, steps, ctx)
        if check["status"] == "ok":
            res["validation_d"] = {
                "users_differing_from_user_ltv": int(
                    check["steps"]["mismatching_users"]["rows"][0][0]
                ),
            }
            log(f"  validation after (d): {res['validation_d']}")

        # Not in the ratios: the refresh as production runs it, `dbt build` with every
        # data and unit test, and the switch that publishes its marts at the end.
        log(f"{engine}: (e) dbt build")
        res["e_dbt_build"] = dbt_step("e_dbt_build", "build", engine, ctx)
        e = res["e_dbt_build"]
        res["publish_switch_s"] = next(
            (n["execution_time_s"] for n in e.get("nodes", [])
             if n["unique_id"] == SWITCH_HOOK), None,
        )
        log(f"  (e) {e['status']}: wall {e['wall_s']}s, nodes {e.get('elapsed_time_s')}s,"
            f" switch {res['publish_switch_s']}s")
        # The marts are published by (e) only: `dbt run` leaves them pending.
        if engine == "postgres" and e["status"] == "ok" and ctx["analyst_runs"]:
            log("postgres: the user list grid, as the service answers it")
            res["list_grid"] = time_list_grid(ctx, ctx["analyst_runs"])
            log(
                f"  grid: {res['list_grid'].get('cells')} cells, slowest "
                f"{(res['list_grid'].get('slowest') or [{}])[0].get('ms')} ms"
            )
            log("postgres: analyst queries")
            res["analyst_fresh"] = time_analyst_queries(ctx, ctx["analyst_runs"])
            log("postgres: what each index of user_ltv costs")
            connection = pg_connect(ctx["pg_database"])
            res["index_costs"] = query_grid.index_costs(connection, DBT_SCHEMA)
            connection.close()
            user_ltv_node = next((n for n in a.get("nodes", []) if n["model"] == "user_ltv"), {})
            res["index_costs"]["user_ltv_model_s_in_a"] = user_ltv_node.get("execution_time_s")

    if a.get("elapsed_time_s") and b.get("statement_s"):
        res["ratio_a_over_b"] = round(a["elapsed_time_s"] / b["statement_s"], 2)
    if a.get("elapsed_time_s") and d.get("elapsed_time_s"):
        res["ratio_d_over_a"] = round(d["elapsed_time_s"] / a["elapsed_time_s"], 2)
    # The same ratios on engine CPU seconds (less sensitive to a busy machine): the
    # dbt process for DuckDB (the engine is in-process; dbt's own Python included),
    # the backends for PostgreSQL.
    cpu_key = "server_cpu_s" if engine == "postgres" else "client_cpu_s"
    runs_of_b = len(b.get("statement_s_by_setting") or {}) or 1  # its CPU covers each run
    if a.get(cpu_key) and b.get(cpu_key):
        res["cpu_ratio_a_over_b"] = round(a[cpu_key] / (b[cpu_key] / runs_of_b), 2)
    if a.get(cpu_key) and d.get(cpu_key):
        res["cpu_ratio_d_over_a"] = round(d[cpu_key] / a[cpu_key], 2)
    return res


def fit_steps(engine: str, ctx: dict, res: dict) -> dict:
    """(a) scores with a real fit of this source: scripts/fit_clv.py first, which
    builds what it reads and then fits (both timed, apart); lifetimes beside it on
    the rows it read; then (a) builds everything, and the scoring's share of it."""
    log(f"{engine}: the CLV fit (`make fit-clv`)")
    res["clv_fit"] = run_clv_fit(engine, ctx)
    log(f"  fit {res['clv_fit']['status']}: wall {res['clv_fit']['wall_s']}s, "
        f"steps {res['clv_fit'].get('steps_s')}")
    if res["clv_fit"]["status"] == "ok":
        log(f"{engine}: lifetimes {LIFETIMES_VERSION} beside our fit, on the same rows")
        res["clv_lifetimes"] = run_lifetimes_beside(engine, ctx)
        log(f"  {res['clv_lifetimes']}")

    log(f"{engine}: (a) dbt run")
    res["a_dbt_run"] = dbt_step("a_dbt_run", "run", engine, ctx)
    a = res["a_dbt_run"]
    log(f"  (a) {a['status']}: wall {a['wall_s']}s, models {a.get('elapsed_time_s')}s")
    res["clv_scoring"] = clv_scoring(res["clv_fit"], a)
    log(f"  CLV scoring: {res['clv_scoring']}")
    return res


def fit_env(engine: str, ctx: dict) -> dict:
    """The bench's environment, with dbt inside a script writing into the work dir."""
    return {**ctx["env"], "DBT_TARGET_PATH": str(ctx["work_dir"] / engine / "target_fit"),
            "DBT_LOG_PATH": str(ctx["work_dir"] / engine / "logs")}  # fmt: skip


def fit_vars(ctx: dict) -> str:
    return json.dumps({"ltv_source_schema": RAW_SCHEMA, "ltv_as_of_date": ctx["as_of"]})


def last_json_line(result: dict) -> dict:
    return json.loads(Path(result["stdout"]).read_text().strip().splitlines()[-1])


def run_lifetimes_beside(engine: str, ctx: dict) -> dict:
    """The grouped rows the fit read as of the as-of date (bench/clv_groups.py, with
    fit_clv's own query), fitted by our fit functions and by lifetimes
    (bench/lifetimes_fit.py in its own venv), each timed; the parameters' largest
    relative difference, ours against lifetimes'."""
    logs = ctx["work_dir"] / engine / "logs"
    groups_csv = ctx["work_dir"] / engine / "clv_groups.csv"
    export = run_measured(
        "clv_groups",
        [PYTHON, BENCH_DIR / "clv_groups.py", "--target", engine, "--profiles-dir",
         ctx["profiles_dir"], "--vars", fit_vars(ctx), groups_csv],
        fit_env(engine, ctx), ctx["timeout"], logs,
    )  # fmt: skip
    if export["status"] != "ok":
        return {"status": f"rows not exported: {export['status']}"}
    ours = last_json_line(export)
    theirs = run_measured("lifetimes_fit", [LIFETIMES_PYTHON, BENCH_DIR / "lifetimes_fit.py",
                                            groups_csv], ctx["env"], ctx["timeout"], logs)
    out = {"status": theirs["status"], "as_of": ours["as_of"], "rows": ours["rows"],
           "customers": ours["customers"], "ours_fit_s": ours["fit_s"],
           "ours": ours["parameters"], "lifetimes_wall_s": theirs["wall_s"]}  # fmt: skip
    if theirs["status"] == "ok":
        lifetimes = last_json_line(theirs)
        out.update(lifetimes_fit_s=lifetimes["fit_s"], lifetimes=lifetimes["parameters"],
                   max_relative_difference=max_relative_difference(
                       ours["parameters"], lifetimes["parameters"]))  # fmt: skip
    else:
        out["error_tail"] = theirs.get("error_tail", "")[-300:]
    return out


def max_relative_difference(ours: dict, theirs: dict) -> float:
    """The largest |ours - theirs| / |theirs| over the parameters."""
    return max(abs(ours[name] - value) / abs(value) for name, value in theirs.items())


def run_clv_fit(engine: str, ctx: dict) -> dict:
    """scripts/fit_clv.py (what `make fit-clv` runs) on the bench's source, and the
    seconds of its steps (--timings): the build of what it reads, then its own work
    (read the grouped rows, fit both as-of dates, store)."""
    timings = ctx["work_dir"] / engine / "fit_timings.json"
    timings.unlink(missing_ok=True)
    result = run_measured(
        "clv_fit",
        [PYTHON, PROJECT_DIR / "scripts" / "fit_clv.py", "--target", engine,
         "--profiles-dir", ctx["profiles_dir"], "--timings", timings,
         "--vars", fit_vars(ctx)],
        fit_env(engine, ctx), ctx["timeout"], ctx["work_dir"] / engine / "logs",
        ctx["pg_database"] if engine == "postgres" else None,
    )  # fmt: skip
    if timings.exists():
        steps = json.loads(timings.read_text())
        result["steps_s"] = steps
        # Its own work: every step after the build (plan, read, fit, store).
        result["own_work_s"] = round(sum(steps.values()) - steps["build_s"], 2)
    return result


def run_pandas(ctx: dict) -> dict:
    log("(c) pandas")
    result = run_measured(
        "c_pandas",
        [PYTHON, BENCH_DIR / "pandas_ltv.py", ctx["work_dir"] / "data",
         PROJECT_DIR / "seeds" / "ecb_fx_rates.csv", ctx["as_of"]],
        ctx["env"], ctx["timeout"], ctx["work_dir"] / "pandas" / "logs",
    )  # fmt: skip
    if result["status"] == "ok":
        out = json.loads(Path(result["stdout"]).read_text().strip().splitlines()[-1])
        result.update(
            read_s=round(out["read_s"], 2), compute_s=round(out["compute_s"], 2),
            checks=out["checks"],
        )  # fmt: skip
    log(f"  (c) {result['status']}: wall {result['wall_s']}s")
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", default="2026-07-01")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/ltv_bench"))
    parser.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument(
        "--pg-database",
        default="ltv_bench",
        help="PostgreSQL database the benchmark drops and recreates (its own: never "
        "one that holds anything else)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=240,
        help="seconds per step before it is stopped and recorded as 'timeout' "
        "(240 keeps the default 1M run near 10 minutes; use 900 for complete numbers)",
    )
    parser.add_argument("--analyst-runs", type=int, default=5)
    parser.add_argument(
        "--explain", type=int, default=1, help="EXPLAIN ANALYZE the N slowest models (0: off)"
    )
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument(
        "--reuse-data", action="store_true", help="keep CSVs of the same users/seed/as_of"
    )
    parser.add_argument(
        "--publish-only", action="store_true",
        help="load, then two whole `dbt build`s: what the switch that publishes costs",
    )
    parser.add_argument(
        "--api-only", action="store_true",
        help="load, one `dbt build`, then the service (serve/) timed over HTTP",
    )
    parser.add_argument(
        "--serve-only", action="store_true",
        help="only time the service over HTTP (--analyst-runs runs a request) on the "
        "marts an earlier --api-only run of the same --work-dir and --pg-database left",
    )
    parser.add_argument(
        "--fit-only", action="store_true",
        help="load, then the CLV fit, lifetimes beside it and (a) `dbt run`: the fit's "
        "own work and the scoring's share of (a)",
    )
    parser.add_argument(
        "--baseline-commit", default=None,
        help="with --api-only: first `dbt build` the project at this commit on the same "
        "data (into schemas of its own), for a before/after of the build",
    )
    parser.add_argument(
        "--grid-only", action="store_true",
        help="only time the user list grid (--analyst-runs runs a cell) on the "
        "database an earlier run of the same --work-dir and --pg-database left",
    )
    args = parser.parse_args(argv)
    engines = [e for e in args.engines.split(",") if e]
    started = datetime.datetime.now()
    t0 = time.perf_counter()

    work_dir = args.work_dir.resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    profiles_dir = work_dir / "profiles"
    profiles_dir.mkdir(exist_ok=True)
    shutil.copy(PROJECT_DIR / "profiles.yml.example", profiles_dir / "profiles.yml")
    duckdb_path = work_dir / "duckdb" / "bench.duckdb"
    env = dict(os.environ)
    env.update(
        DBT_DUCKDB_PATH=str(duckdb_path),
        DBT_SCHEMA=DBT_SCHEMA,
        PGDATABASE=args.pg_database,
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        **{f"PG{k.upper()}": v for k, v in connection_settings().items() if k != "password"},
    )
    ctx = {
        "work_dir": work_dir,
        "results_dir": args.results_dir.resolve(),
        "profiles_dir": profiles_dir,
        "duckdb_path": duckdb_path,
        "env": env,
        "as_of": args.as_of,
        "timeout": args.timeout,
        "users": args.users,
        "analyst_runs": args.analyst_runs,
        "explain": args.explain,
        "pg_database": args.pg_database,
        "publish_only": args.publish_only,
        "api_only": args.api_only,
        "fit_only": args.fit_only,
        "baseline_commit": args.baseline_commit,
    }

    if args.serve_only:
        for engine in engines:
            log(f"{engine}: the service over HTTP; load average {os.getloadavg()}")
            for line in api_timing.api_lines(
                engine, api_timing.time_api(engine, ctx, max(args.analyst_runs, 1))
            ):
                log(line)
        return

    if args.grid_only:
        print_grid(time_list_grid(ctx, max(args.analyst_runs, 1)))
        return

    machine = machine_info()
    project = project_state()
    data = prepare_data(args, work_dir)
    pandas_result = None if args.skip_pandas else run_pandas(ctx)
    pandas_checks = (pandas_result or {}).get("checks")
    results = {engine: run_engine(engine, ctx, pandas_checks) for engine in engines}

    report = {
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.datetime.now().isoformat(timespec="seconds"),
        "total_wall_s": round(time.perf_counter() - t0, 1),
        "as_of": args.as_of,
        "timeout_s": args.timeout,
        "mode": next((m for m in ("publish_only", "api_only", "fit_only") if ctx[m]), "full"),
        "analyst_runs": args.analyst_runs,
        "engines": engines,
        "machine": machine,
        "project": project,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "data": data,
        "pandas": pandas_result,
        "results": results,
    }
    for res in results.values():  # keep the JSON readable: no SQL text per node
        for key in ("a_dbt_run", "d_dbt_run", "e_first_build", "e_dbt_build",
                    "baseline_dbt_build"):
            for node in (res.get(key) or {}).get("nodes", []):
                node.pop("compiled_code", None)
    markdown = render_markdown(report)
    report_json = json.dumps(report, indent=1, default=str)
    # One file per scale: the latest run of that scale.
    stem = f"users_{args.users}" + (
        "_publish" if args.publish_only else "_api" if args.api_only
        else "_clv" if args.fit_only else ""
    )
    (args.results_dir / f"{stem}.md").write_text(markdown)
    (args.results_dir / f"{stem}.json").write_text(report_json)
    print()
    print(markdown)
    log(f"done in {report['total_wall_s']} s; results in {args.results_dir}")



if __name__ == "__main__":
    main()
