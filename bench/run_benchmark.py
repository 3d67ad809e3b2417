#!/usr/bin/env python3
"""Benchmark of the LTV dbt project on DuckDB and PostgreSQL at scale.

Run with the project's virtualenv (dbt, duckdb, pandas, psycopg2, psutil):

    .venv/bin/python bench/run_benchmark.py [--users 1000000] [--work-dir /tmp/ltv_bench]

Steps (see bench/README.md):
  data  generate N users' raw users/orders (dirty, bench/generate.py) as CSV, once;
  load  bulk-load them into DuckDB (read_csv) and PostgreSQL (COPY), schema bench_raw;
  (a)   `dbt run` of all models: process wall time and the models' own time
        (run_results.json elapsed_time; per-model execution_time, top 5);
  (b)   one hand-written statement (bench/expert_user_ltv.sql) computing user_ltv's
        revenue and order columns from the raw tables, as `create table`;
  (c)   pandas computing the same columns from the CSV files (bench/pandas_ltv.py);
  (d)   append 1% new orders and new versions (refund, late payment) of 0.1% of the
        existing ones, then `dbt run` again (no --full-refresh): whatever the project
        does incrementally, or a full rebuild when it has no incremental model;
  (e)   `dbt test` after (d): what `dbt build` adds (reported, not in the ratios);
  analyst queries on PostgreSQL's marts (median of 5 after a warm-up, EXPLAIN each).

Results: printed, and written to bench/results/users_N.md and users_N.json (plus the
EXPLAIN ANALYZE of the slowest model per engine next to them).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import string
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import psycopg2

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
sys.path.insert(0, str(PROJECT_DIR / "scripts"))
sys.path.insert(0, str(BENCH_DIR))
import demo_data  # noqa: E402  (lives in scripts/, not a package)
import query_grid  # noqa: E402  (beside this file)
from ensure_postgres import connection_settings  # noqa: E402

DBT = PROJECT_DIR / ".venv" / "bin" / "dbt"
PYTHON = sys.executable
RAW_SCHEMA = "bench_raw"
DBT_SCHEMA = "bench_ltv"
ENGINES = ("duckdb", "postgres")
RAW_COLUMNS = {  # the raw tables typed as the tests create them
    table: list(types.items()) for table, types in demo_data.RAW_COLUMN_TYPES.items()
}
LTV_COLUMNS = [
    "revenue_3m", "revenue_6m", "revenue_12m", "revenue_lifetime",
    "orders_3m", "orders_6m", "orders_12m", "orders_lifetime",
]  # fmt: skip


# ------------------------------------------------------------------------- helpers


def log(message: str) -> None:
    stamp = datetime.datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", flush=True)


def pg_connect(dbname: str):
    connection = psycopg2.connect(dbname=dbname, **connection_settings())
    connection.autocommit = True
    return connection


def pg_query(dbname: str, sql: str, params=None) -> list:
    connection = pg_connect(dbname)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


def pg_terminate(dbname: str) -> None:
    """Stop the server-side work of a step that timed out."""
    pg_query(
        "postgres",
        "select pg_terminate_backend(pid) from pg_stat_activity "
        "where datname = %s and pid <> pg_backend_pid()",
        (dbname,),
    )


def pg_temp_stats(dbname: str) -> tuple[int, int]:
    rows = pg_query(
        "postgres",
        "select temp_files, temp_bytes from pg_stat_database where datname = %s",
        (dbname,),
    )
    return (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)


class PgMonitor(threading.Thread):
    """Polls the server processes of one database: private memory (USS) and CPU.

    A PostgreSQL backend's RSS counts the shared_buffers pages it touched; its USS
    (unique set size) is the memory that process alone holds: sort and hash memory
    (work_mem), caches, parallel workers' too. The peak is the largest sum of USS
    over the database's backends seen by 0.2 s polling.
    """

    def __init__(self, dbname: str, interval: float = 0.2):
        super().__init__(daemon=True)
        self.dbname = dbname
        self.interval = interval
        self.stop_event = threading.Event()
        self.peak_uss = 0
        self.peak_backends = 0
        self.cpu_first: dict[int, float] = {}
        self.cpu_last: dict[int, float] = {}
        self.connection = pg_connect("postgres")

    def sample(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "select pid from pg_stat_activity "
                "where datname = %s and pid <> pg_backend_pid()",
                (self.dbname,),
            )
            pids = [row[0] for row in cursor.fetchall()]
        total = 0
        for pid in pids:
            try:
                process = psutil.Process(pid)
                total += process.memory_full_info().uss
                times = process.cpu_times()
            except (psutil.Error, OSError):
                continue
            self.cpu_first.setdefault(pid, times.user + times.system)
            self.cpu_last[pid] = times.user + times.system
        self.peak_uss = max(self.peak_uss, total)
        self.peak_backends = max(self.peak_backends, len(pids))

    def run(self) -> None:
        first = True
        while not self.stop_event.is_set():
            try:
                self.sample()
            except psycopg2.Error:
                pass
            if first:  # backends alive before the step: count only their new CPU time
                self.preexisting = set(self.cpu_first)
                first = False
            self.stop_event.wait(self.interval)

    def finish(self) -> dict:
        self.stop_event.set()
        self.join()
        self.connection.close()
        preexisting = getattr(self, "preexisting", set())
        cpu = sum(
            self.cpu_last[pid] - (self.cpu_first[pid] if pid in preexisting else 0.0)
            for pid in self.cpu_last
        )
        return {
            "server_peak_uss_mb": round(self.peak_uss / 2**20, 1),
            "server_peak_backends": self.peak_backends,
            "server_cpu_s": round(cpu, 1),
        }


def tree_rss(pid: int) -> int:
    """RSS of a process and its descendants, in bytes (0 once it has exited).

    Polled, not wait4's ru_maxrss: Linux starts a child's maxrss at the parent's
    high-water mark (recorded at exec), which would floor every child at this
    process's size.
    """
    try:
        root = psutil.Process(pid)
        processes = [root] + root.children(recursive=True)
    except psutil.Error:
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_measured(
    name: str,
    cmd: list,
    env: dict,
    timeout: float,
    log_dir: Path,
    pg_database: str | None = None,
) -> dict:
    """Run cmd as a child; wall time, its peak RSS and CPU (wait4), server stats."""
    log_dir.mkdir(parents=True, exist_ok=True)
    stdout_path = log_dir / f"{name}.out"
    stderr_path = log_dir / f"{name}.err"
    monitor = None
    if pg_database:
        temp_before = pg_temp_stats(pg_database)
        monitor = PgMonitor(pg_database)
        monitor.start()
    load_average = [round(x, 2) for x in os.getloadavg()]
    start = time.perf_counter()
    with open(stdout_path, "w") as out, open(stderr_path, "w") as err:
        process = subprocess.Popen(
            [str(c) for c in cmd], env=env, cwd=PROJECT_DIR, stdout=out, stderr=err,
            start_new_session=True,
        )  # fmt: skip
        status = "ok"
        peak_rss = 0
        while True:
            pid, wait_status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak_rss = max(peak_rss, tree_rss(process.pid))
            if time.perf_counter() - start > timeout:
                status = "timeout"
                os.killpg(process.pid, signal.SIGTERM)
                if pg_database:
                    pg_terminate(pg_database)
                for _ in range(50):
                    pid, wait_status, usage = os.wait4(process.pid, os.WNOHANG)
                    if pid:
                        break
                    time.sleep(0.1)
                else:
                    os.killpg(process.pid, signal.SIGKILL)
                    pid, wait_status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.05)
    wall = time.perf_counter() - start
    exit_code = os.waitstatus_to_exitcode(wait_status)
    process.returncode = exit_code  # reaped by wait4: keep Popen from waiting again
    if status == "ok" and exit_code != 0:
        status = "error"
    result = {
        "status": status,
        "wall_s": round(wall, 2),
        "client_peak_rss_mb": round(peak_rss / 2**20, 1),
        "client_cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "load_average_at_start": load_average,
        "stdout": str(stdout_path),
        "stderr": str(stderr_path),
    }
    if monitor:
        result.update(monitor.finish())
        time.sleep(0.5)  # exited backends flush their statistics
        temp_after = pg_temp_stats(pg_database)
        result["server_temp_files"] = temp_after[0] - temp_before[0]
        result["server_temp_mb"] = round((temp_after[1] - temp_before[1]) / 2**20, 1)
    if status != "ok":
        tail = Path(stderr_path).read_text()[-2000:] or Path(stdout_path).read_text()[-2000:]
        result["error_tail"] = tail
        log(f"  {name}: {status} after {wall:.1f}s")
    return result


def sql_job(
    name: str,
    engine: str,
    steps: list,
    ctx: dict,
    timeout: float | None = None,
) -> dict:
    """Run SQL steps in a child process (bench/exec_sql.py); per-step seconds too."""
    job = {
        "engine": engine,
        "duckdb_path": str(ctx["duckdb_path"]),
        "dbname": ctx["pg_database"],
        "steps": steps,
    }
    job_path = ctx["work_dir"] / engine / f"{name}.job.json"
    job_path.parent.mkdir(parents=True, exist_ok=True)
    job_path.write_text(json.dumps(job, indent=1))
    result = run_measured(
        name,
        [PYTHON, BENCH_DIR / "exec_sql.py", job_path],
        ctx["env"],
        timeout or ctx["timeout"],
        ctx["work_dir"] / engine / "logs",
        ctx["pg_database"] if engine == "postgres" else None,
    )
    if result["status"] == "ok":
        lines = Path(result["stdout"]).read_text().strip().splitlines()
        result["steps"] = {s["name"]: s for s in json.loads(lines[-1])}
    return result


# ----------------------------------------------------------------------- machine


def project_state() -> dict:
    """Which models were measured: git HEAD, uncommitted changes, a content hash."""
    import hashlib

    def git(*args):
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, cwd=PROJECT_DIR
        ).stdout.strip()

    digest = hashlib.sha256()
    files = sorted(
        [*PROJECT_DIR.glob("models/**/*"), *PROJECT_DIR.glob("macros/**/*"),
         PROJECT_DIR / "dbt_project.yml", PROJECT_DIR / "profiles.yml.example"]
    )  # fmt: skip
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(PROJECT_DIR)).encode())
            digest.update(path.read_bytes())
    return {
        "git_head": git("rev-parse", "--short", "HEAD"),
        "uncommitted": git(
            "status", "--porcelain", "--", "models", "macros", "dbt_project.yml",
            "profiles.yml.example",
        ).splitlines(),
        "models_sha256": digest.hexdigest()[:16],
    }


def machine_info() -> dict:
    cpu_model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    import duckdb
    import numpy
    import pandas

    dbt_version = subprocess.run(
        [DBT, "--version"], capture_output=True, text=True, cwd=PROJECT_DIR
    ).stdout
    versions = dict(re.findall(r"^\s*-\s*(\w+):\s*([\w.]+)", dbt_version, re.M))
    core = re.search(r"installed:\s*([\w.]+)", dbt_version)
    info = {
        "cpu_model": cpu_model,
        "logical_cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
        "dbt_core": core.group(1) if core else None,
        "dbt_adapters": versions,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        info["postgres"] = pg_query("postgres", "select version()")[0][0]
        names = (
            "work_mem", "shared_buffers", "effective_cache_size", "maintenance_work_mem",
            "max_parallel_workers_per_gather", "jit", "random_page_cost",
            "default_statistics_target", "autovacuum",
        )  # fmt: skip
        rows = pg_query(
            "postgres",
            "select name, setting, unit from pg_settings where name = any(%s)",
            (list(names),),
        )
        info["postgres_settings"] = {
            name: f"{setting}{' ' + unit if unit else ''}" for name, setting, unit in rows
        }
    except psycopg2.Error as error:
        info["postgres"] = f"unreachable: {error}"
    return info


# -------------------------------------------------------------------------- data


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


# --------------------------------------------------------------------------- dbt


def dbt_command(verb: str, engine: str, ctx: dict, extra: list | None = None) -> list:
    return [
        DBT, verb,
        "--project-dir", PROJECT_DIR,
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


def dbt_step(name: str, verb: str, engine: str, ctx: dict) -> dict:
    """Run one dbt command; keep its run_results.json and summarize the node times."""
    target = ctx["work_dir"] / engine / "target"
    results_file = target / "run_results.json"
    if results_file.exists():
        results_file.unlink()
    models_sha256 = project_state()["models_sha256"]
    result = run_measured(
        name,
        dbt_command(verb, engine, ctx),
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
            sum(n["execution_time_s"] for n in nodes if n["materialized"] == "table"), 2
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


def top_models(step: dict, n: int = 5) -> list:
    return [
        {k: node.get(k) for k in ("model", "materialized", "execution_time_s", "rows", "status")}
        for node in step.get("nodes", [])[:n]
    ]


# ------------------------------------------------------------------ engine steps


def load_steps(engine: str, data_dir: Path, delta: bool = False) -> list:
    tables = ["orders"] if delta else ["users", "orders"]
    steps = [] if delta else [{"name": "create_schema", "sql": f"create schema {RAW_SCHEMA}"}]
    for table in tables:
        csv_file = data_dir / (f"{table}_delta.csv" if delta else f"{table}.csv")
        columns = RAW_COLUMNS[table]
        if engine == "duckdb":
            spec = ", ".join(
                f"'{name}': '{type_.replace('numeric', 'decimal')}'" for name, type_ in columns
            )
            verb = f"insert into {RAW_SCHEMA}.{table}" if delta else (
                f"create table {RAW_SCHEMA}.{table} as"
            )
            steps.append({
                "name": f"load_{table}",
                "sql": f"{verb} select * from read_csv('{csv_file}', header = true, "
                f"columns = {{{spec}}})",
            })  # fmt: skip
        else:
            if not delta:
                ddl = ", ".join(f"{name} {type_}" for name, type_ in columns)
                steps.append({
                    "name": f"create_{table}",
                    "sql": f"create table {RAW_SCHEMA}.{table} ({ddl})",
                })  # fmt: skip
            steps.append({
                "name": f"load_{table}",
                "copy_table": f"{RAW_SCHEMA}.{table}",
                "copy_file": str(csv_file),
            })  # fmt: skip
    if engine == "postgres" and not delta:
        # What a loader does after a bulk load; autovacuum would do it a little later.
        steps += [{"name": f"analyze_{t}", "sql": f"analyze {RAW_SCHEMA}.{t}"} for t in tables]
    if engine == "duckdb":
        steps.append({"name": "checkpoint", "sql": "checkpoint"})
    return steps


LATEST_ORDERS = {
    "postgres": """\
    select distinct on (order_id)
        order_id, user_id, created_at, status, total_amount, currency
    from $raw_schema.orders
    order by order_id, coalesce(updated_at, created_at) desc nulls last""",
    "duckdb": """\
    select order_id, user_id, created_at, status, total_amount, currency
    from (
        select
            order_id, user_id, created_at, status, total_amount, currency,
            row_number() over (
                partition by order_id
                order by coalesce(updated_at, created_at) desc nulls last
            ) as version_rank
        from $raw_schema.orders
    ) as versions
    where version_rank = 1""",
}


def expert_sql(engine: str, ctx: dict) -> str:
    text = (BENCH_DIR / "expert_user_ltv.sql").read_text()
    text = text.replace("$latest_orders", LATEST_ORDERS[engine], 1)
    return string.Template(text).substitute(
        target_table=f"{DBT_SCHEMA}.bench_expert",
        raw_schema=RAW_SCHEMA,
        fx_table=f"{DBT_SCHEMA}.fx_rates",
        as_of=ctx["as_of"],
    )


def expert_session_settings(engine: str, local: bool = False) -> list:
    """The settings the models get (their pre-hook): (b) runs with and without them."""
    if engine != "postgres":
        return []
    scope = "local " if local else ""
    return [
        {"name": name, "sql": f"set {scope}{name} = '{value}'"}
        for name, value in project_session_settings().items()
    ]


def validation_steps() -> list:
    mismatch = " or ".join(f"u.{c} <> e.{c}" for c in LTV_COLUMNS)
    sums = ", ".join(f"sum({c})" for c in LTV_COLUMNS)
    return [
        {
            "name": "mismatching_users",
            "fetch": True,
            "sql": f"select count(*) from {DBT_SCHEMA}.user_ltv as u "
            f"full outer join {DBT_SCHEMA}.bench_expert as e on u.user_id = e.user_id "
            f"where u.user_id is null or e.user_id is null or {mismatch}",
        },
        {
            "name": "expert_checksums",
            "fetch": True,
            "sql": f"select count(*), {sums} from {DBT_SCHEMA}.bench_expert",
        },
    ]


def checks_match(engine_row: list, pandas_checks: dict | None) -> bool | None:
    if not pandas_checks:
        return None
    from decimal import Decimal

    expected = [pandas_checks["users"]] + [pandas_checks[c] for c in LTV_COLUMNS]
    return all(Decimal(str(a)) == Decimal(str(b)) for a, b in zip(engine_row, expected))


def project_session_settings() -> dict:
    """The PostgreSQL settings of the models' pre-hook, from dbt_project.yml's vars
    (macros/ltv_postgres_tuning.sql): work_mem and jit, where set."""
    import yaml

    project_vars = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    settings = {}
    if project_vars.get("ltv_postgres_work_mem"):
        settings["work_mem"] = str(project_vars["ltv_postgres_work_mem"])
    if project_vars.get("ltv_postgres_jit") is not None:
        settings["jit"] = "on" if project_vars["ltv_postgres_jit"] else "off"
    return settings


def models_setting_label() -> str:
    return ", ".join(f"{k} {v}" for k, v in project_session_settings().items())


def explain_slowest(engine: str, step: dict, ctx: dict, top_n: int) -> list:
    """EXPLAIN ANALYZE of the slowest models' own DDL, as dbt ran it, then rolled back.

    The statements come from target/run (create table, then insert for a model with
    an enforced contract, or create table as); the last one is explained with ANALYZE
    inside a transaction that is rolled back. Index builds after it (user_ltv's on
    PostgreSQL) are not in that file and not covered.
    """
    target = ctx["work_dir"] / engine / "target"
    manifest = json.loads((target / "manifest.json").read_text())
    summaries = []
    for node in [n for n in step.get("nodes", []) if n.get("compiled_code")][:top_n]:
        path = manifest["nodes"][node["unique_id"]]["original_file_path"]
        run_sql = (target / "run" / "ltv" / path).read_text()
        statements = [x for x in re.split(r";\s*\n", run_sql) if x.strip()]
        prefix = "explain (analyze, buffers) " if engine == "postgres" else "explain analyze "
        steps = [{"name": "begin", "sql": "begin"}]
        steps += expert_session_settings(engine, local=True)  # as the model's pre-hook
        # An incremental model's first run creates its final relation directly, which
        # exists by now: move it aside inside the transaction that is rolled back.
        created = re.search(
            r"create\s+(?:unlogged\s+)?table\s+(\S+)\s+as", statements[-1], re.I
        )
        if created and "__dbt_tmp" not in created.group(1):
            steps.append({
                "name": "move_aside",
                "sql": f"alter table {created.group(1)} rename to {node['model']}__bench_kept",
            })
        steps += [{"name": f"ddl_{i}", "sql": x} for i, x in enumerate(statements[:-1])]
        steps += [
            {"name": "explain", "fetch": True, "sql": prefix + statements[-1].strip()},
            {"name": "rollback", "sql": "rollback"},
        ]
        result = sql_job(f"explain_{node['model']}", engine, steps, ctx)
        summary = {
            "model": node["model"],
            "execution_time_s_in_a": node["execution_time_s"],
            "status": result["status"],
        }
        summaries.append(summary)
        if result["status"] != "ok":
            continue
        text = "\n".join(r[-1] for r in result["steps"]["explain"]["rows"])
        out_file = ctx["results_dir"] / f"users_{ctx['users']}_explain_{engine}_{node['model']}.txt"
        out_file.write_text(
            f"-- EXPLAIN ANALYZE on {engine} of the last statement dbt ran for "
            f"{node['model']} ({node['execution_time_s']} s in dbt run (a)), rolled back.\n"
            f"-- {ctx['users']:,} users. Statements (target/run/ltv/{path}):\n"
            + "\n".join("--   " + line for line in run_sql.strip().splitlines())
            + "\n\n" + text + "\n"
        )
        summary["file"] = out_file.name
        summary["explain_s"] = round(result["steps"]["explain"]["seconds"], 2)
        if engine == "postgres":
            summary["external_sorts"] = len(re.findall(r"Sort Method: external", text))
            summary["sort_disk_mb"] = round(
                sum(int(x) for x in re.findall(r"Disk: (\d+)kB", text)) / 1024, 1
            )
            summary["hash_batches_over_1"] = len(re.findall(r"Batches: ([2-9]|\d\d+)", text))
            summary["window_aggs"] = text.count("WindowAgg")
            summary["scans_of_raw_orders"] = len(re.findall(r"Scan on orders", text))
            total = re.search(r"Execution Time: ([\d.]+) ms", text)
            summary["execution_time_ms"] = float(total.group(1)) if total else None
    return summaries


def explain_expert(engine: str, ctx: dict, setting: str | None) -> dict:
    """EXPLAIN ANALYZE of the expert statement (b), rolled back, for comparison."""
    prefix = "explain (analyze, buffers) " if engine == "postgres" else "explain analyze "
    sql = expert_sql(engine, ctx)
    result = sql_job(
        "explain_expert",
        engine,
        [
            {"name": "begin", "sql": "begin"},
            {"name": "drop", "sql": f"drop table {DBT_SCHEMA}.bench_expert"},
            *(expert_session_settings(engine) if setting and setting != "server default" else []),
            {"name": "explain", "fetch": True, "sql": prefix + sql},
            {"name": "rollback", "sql": "rollback"},
        ],
        ctx,
    )
    if result["status"] != "ok":
        return {"status": result["status"]}
    text = "\n".join(r[-1] for r in result["steps"]["explain"]["rows"])
    out_file = ctx["results_dir"] / f"users_{ctx['users']}_explain_{engine}_expert.txt"
    out_file.write_text(
        f"-- EXPLAIN ANALYZE on {engine} of the expert statement (b), rolled back; "
        f"{ctx['users']:,} users.\n"
        + "\n".join("--   " + line for line in sql.strip().splitlines())
        + "\n\n" + text + "\n"
    )
    return {"status": "ok", "file": out_file.name,
            "explain_s": round(result["steps"]["explain"]["seconds"], 2)}  # fmt: skip


# -------------------------------------------------------------- analyst queries


def analyst_queries(n_users: int) -> list:
    user = f"{DBT_SCHEMA}.user_ltv"
    return [
        ("top 50 users by revenue_12m in segment VIP",
         f"select user_id, signup_date, acquisition_channel, revenue_12m, revenue_lifetime "
         f"from {user} where ltv_segment = 'VIP' "
         f"order by revenue_12m desc, user_id asc limit 50"),
        ("signup in 2024-Q1 by revenue_lifetime, page 20 of 50",
         f"select user_id, signup_date, acquisition_channel, ltv_segment, orders_lifetime, "
         f"revenue_12m, revenue_lifetime from {user} "
         f"where signup_date >= date '2024-01-01' and signup_date < date '2024-04-01' "
         f"order by revenue_lifetime desc, user_id asc limit 50 offset 950"),
        ("signup 2021..2024 by revenue_lifetime, page 20 of 50",
         f"select user_id, signup_date, acquisition_channel, ltv_segment, orders_lifetime, "
         f"revenue_12m, revenue_lifetime from {user} "
         f"where signup_date >= date '2021-01-01' and signup_date < date '2025-01-01' "
         f"order by revenue_lifetime desc, user_id asc limit 50 offset 950"),
        ("summary",
         f"select * from {DBT_SCHEMA}.ltv_summary order by horizon_months nulls last"),
        ("distribution",
         f"select * from {DBT_SCHEMA}.ltv_distribution order by horizon, bucket_order"),
        ("one user's row",
         f"select * from {user} where user_id = {max(1, n_users // 2 + 1)}"),
    ]  # fmt: skip


def plan_nodes(plan: dict) -> list:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes += plan_nodes(child)
    return nodes


def index_label(indexdef: str) -> str:
    """'CREATE INDEX x ON s.user_ltv USING btree (a, b)' -> 'user_ltv(a, b)'."""
    table = re.search(r" ON (?:ONLY )?([\w.\"]+)", indexdef)
    columns = re.search(r"USING \w+ \((.*)\)", indexdef)
    if not table or not columns:
        return indexdef
    return f"{table.group(1).split('.')[-1]}({columns.group(1)})"


def time_analyst_queries(ctx: dict, runs: int) -> dict:
    connection = pg_connect(ctx["pg_database"])
    cursor = connection.cursor()
    cursor.execute("set statement_timeout = %s", (int(ctx["timeout"] * 1000),))
    cursor.execute(
        "select relname, n_live_tup, last_analyze, last_autoanalyze "
        "from pg_stat_user_tables where schemaname = %s and relname = 'user_ltv'",
        (DBT_SCHEMA,),
    )
    stats_state = [list(map(str, r)) for r in cursor.fetchall()]
    cursor.execute("select indexname, indexdef from pg_indexes where schemaname = %s", (DBT_SCHEMA,))
    index_columns = {name: index_label(d) for name, d in cursor.fetchall()}
    out = {"user_ltv_stats": stats_state, "queries": []}
    for name, sql in analyst_queries(ctx["users"]):
        cursor.execute("explain (format json) " + sql)
        plan = cursor.fetchone()[0][0]["Plan"]
        nodes = plan_nodes(plan)
        cursor.execute("explain " + sql)
        plan_text = "\n".join(r[0] for r in cursor.fetchall())
        timings = []
        cursor.execute(sql)
        cursor.fetchall()  # warm-up
        for _ in range(runs):
            start = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            timings.append((time.perf_counter() - start) * 1000)
        index_nodes = [n for n in nodes if "Index" in n["Node Type"]]
        out["queries"].append({
            "query": name,
            "sql": sql,
            "median_ms": round(statistics.median(timings), 2),
            "runs_ms": [round(t, 2) for t in timings],
            "uses_index": bool(index_nodes),
            "indexes": sorted(
                {index_columns.get(n.get("Index Name"), n.get("Index Name")) for n in index_nodes}
            ),
            "plan_nodes": [n["Node Type"] for n in nodes],
            "estimated_rows_top": plan.get("Plan Rows"),
            "plan": plan_text,
        })  # fmt: skip
    connection.close()
    return out


def time_list_grid(ctx: dict, runs: int) -> dict:
    """Compile the user list's grid with dbt (postgres target), then time it."""
    cells = query_grid.grid()
    command = dbt_command(
        "compile", "postgres", ctx,
        ["--quiet", "--output", "json", "--inline", query_grid.inline_sql(cells)],
    )  # fmt: skip
    compiled = subprocess.run(
        [str(c) for c in command], env=ctx["env"], capture_output=True, text=True
    )
    if compiled.returncode != 0:
        return {"status": "compile failed", "error_tail": compiled.stdout[-2000:]}
    page_sql, total_sql = query_grid.split_compiled(
        json.loads(compiled.stdout)["compiled"], cells
    )
    connection = pg_connect(ctx["pg_database"])
    connection.cursor().execute("set statement_timeout = %s", (int(ctx["timeout"] * 1000),))
    try:
        out = query_grid.time_grid(connection, page_sql, total_sql, cells, runs)
    finally:
        connection.close()
    return {"status": "ok", **out}


# ------------------------------------------------------------------------ engine


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

    log(f"{engine}: (a) dbt run")
    res["a_dbt_run"] = dbt_step("a_dbt_run", "run", engine, ctx)
    a = res["a_dbt_run"]
    log(f"  (a) {a['status']}: wall {a['wall_s']}s, models {a.get('elapsed_time_s')}s")

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
        check = sql_job("validate", engine, validation_steps(), ctx)
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

    if engine == "postgres" and a["status"] == "ok" and ctx["analyst_runs"]:
        log("postgres: the user list grid, as dbt left user_ltv")
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
                 validation_steps()[0]]
        check = sql_job("validate_d", engine, steps, ctx)
        if check["status"] == "ok":
            res["validation_d"] = {
                "users_differing_from_user_ltv": int(
                    check["steps"]["mismatching_users"]["rows"][0][0]
                ),
            }
            log(f"  validation after (d): {res['validation_d']}")

        # Not in the ratios: what `dbt build` adds to the refresh, every data and unit
        # test on the refreshed tables.
        log(f"{engine}: (e) dbt test")
        res["e_dbt_test"] = dbt_step("e_dbt_test", "test", engine, ctx)
        e = res["e_dbt_test"]
        log(f"  (e) {e['status']}: wall {e['wall_s']}s, tests {e.get('elapsed_time_s')}s")

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


def run_pandas(ctx: dict) -> dict:
    log("(c) pandas")
    result = run_measured(
        "c_pandas",
        [PYTHON, BENCH_DIR / "pandas_ltv.py", ctx["work_dir"] / "data",
         PROJECT_DIR / "seeds" / "fx_rates.csv", ctx["as_of"]],
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


# ------------------------------------------------------------------------ report


def fmt(value, suffix: str = "") -> str:
    if value is None or value == "":
        return "–"
    return f"{value}{suffix}"


def step_row(label: str, step: dict | None, models_s=None, server: bool = False) -> str:
    if not step:
        return f"| {label} | not run | | | | | | | | |"
    status = step["status"]
    cells = [
        label,
        status,
        fmt(step.get("wall_s")),
        fmt(models_s),
        fmt(step.get("sum_node_execution_s")),
        fmt(step.get("client_cpu_s")),
        fmt(step.get("server_cpu_s")) if server else "n/a",
        fmt(step.get("client_peak_rss_mb")),
        fmt(step.get("server_peak_uss_mb")) if server else "n/a",
        fmt(step.get("server_temp_mb")) if server else "n/a",
    ]
    return "| " + " | ".join(str(c) for c in cells) + " |"


def list_grid_lines(grid: dict | None, costs: dict | None) -> list:
    """The user list grid: the slowest cells, the totals, what each index costs."""
    if not grid:
        return []
    lines = ["## The user list on PostgreSQL, as dbt left user_ltv", ""]
    if grid.get("status") != "ok":
        return lines + [f"Not run: {grid.get('status')} {grid.get('error_tail', '')[-300:]!r}", ""]
    slowest = grid["slowest"][0]
    lines += [
        f"{grid['cells']} cells (analyses/user_list_page.sql and user_list_total.sql, "
        f"bench/query_grid.py): {len(query_grid.FILTERS)} filters × "
        f"{len(query_grid.SORT_FIELDS)} sort fields × both directions × pages "
        f"{', '.join(f'{p} of {s}' for s, p in query_grid.PAGES)}. A cell's time is "
        f"the median of {grid['runs']} runs after a warm-up of its page plus that of "
        f"its total. **Slowest: {slowest['ms']} ms** ({slowest['filter']}, "
        f"{slowest['sort']} {slowest['direction']}, page {slowest['page']} of "
        f"{slowest['page_size']}); cells at or over {query_grid.TARGET_MS} ms: "
        f"{grid['over_target']}.",
        "",
        "| filter | sort | page | page ms | total ms | ms |",
        "|---|---|---|---|---|---|",
    ]
    for c in grid["slowest"]:
        lines.append(
            f"| {c['filter']} | {c['sort']} {c['direction']} | {c['page']} of "
            f"{c['page_size']} | {c['page_ms']} | {c['total_ms']} | {c['ms']} |"
        )
    totals = {
        k: (v["ms"] if isinstance(v, dict) else v) for k, v in grid["totals_ms"].items()
    }
    lines += [
        "",
        "Totals (count of each filter), ms: "
        + ", ".join(f"{k} {v}" for k, v in sorted(totals.items(), key=lambda kv: -kv[1])),
        "",
    ]
    if costs:
        lines += [
            f"user_ltv: {costs['table_mb']} MB, {costs['relallvisible']} of "
            f"{costs['relpages']} pages all-visible; model {costs.get('user_ltv_model_s_in_a')} s "
            f"in (a), indexes included. Each index built again on the table as it is:",
            "",
            "| index | MB | build s |",
            "|---|---|---|",
            *(
                f"| ({i['columns']}){' unique' if i['unique'] else ''} | {i['mb']} | {i['build_s']} |"
                for i in costs["indexes"]
            ),
            f"| all {len(costs['indexes'])} | {costs['indexes_mb']} | {costs['indexes_build_s']} |",
            "",
        ]
    lines += ["<details><summary>EXPLAIN ANALYZE of the slowest cells and totals</summary>", ""]
    for c in grid["slowest"][:5]:
        lines += [f"**{c['filter']}, {c['sort']} {c['direction']}, page {c['page']} "
                  f"of {c['page_size']}**", "", "```", c["sql"], "", c.get("plan", ""), "```", ""]
    for label, value in grid["totals_ms"].items():
        if isinstance(value, dict):
            lines += [f"**total, {label}**", "", "```", value["plan"], "```", ""]
    return lines + ["</details>", ""]


def render_markdown(report: dict) -> str:
    m = report["machine"]
    data = report["data"]
    lines = [
        f"# LTV benchmark — {data['users']:,} users",
        "",
        f"Run {report['started_at']} → {report['finished_at']} "
        f"({report['total_wall_s']} s), as_of {report['as_of']}, "
        f"timeout per step {report['timeout_s']} s.",
        "",
        f"Project: git {report['project']['git_head']}, models+macros sha256 "
        f"{report['project']['models_sha256']}, uncommitted: "
        f"{len(report['project']['uncommitted'])} files "
        f"{report['project']['uncommitted'][:8]}{' …' if len(report['project']['uncommitted']) > 8 else ''} "
        f"(files changed but not committed when the run started).",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu_model']}, {m['logical_cores']} logical cores; RAM {m['ram_gb']} GiB; "
        f"{m['os']}",
        f"- DuckDB {m['duckdb']}; {m.get('postgres', '?')}",
        f"- dbt-core {m['dbt_core']}, adapters {m['dbt_adapters']}; pandas {m['pandas']}, "
        f"numpy {m['numpy']}, Python {m['python']}",
        f"- PostgreSQL settings (server defaults, the profile sets none): "
        f"{m.get('postgres_settings')}",
        f"- load average at start {m['load_average_at_start']}, at end "
        f"{report['load_average_at_end']}",
        "",
        "## Data",
        "",
        f"{data['users']:,} users, {data['logical_orders']:,} logical orders, "
        f"{data['raw_order_rows']:,} raw order rows "
        f"({data['raw_order_rows'] / data['users']:.2f} per user); dirty cases "
        f"{sum(data['dirty_orders_per_case'].values()):,} orders "
        f"({next(iter(data['dirty_orders_per_case'].values())):,} per case, 11 cases). "
        f"The data end on {data.get('data_ends')} "
        f"({'before' if str(data.get('data_ends')) < report['started_at'][:10] else 'AFTER'} "
        "the run: a stamp after the run's start is taken again by every refresh). "
        f"Delta for (d): {data['delta_new_orders']:,} new orders + "
        f"{data['delta_refunded']:,} refunds + {data['delta_paid_late']:,} late payments, "
        "stamped the day after the data end. "
        f"Generated and written in {data.get('generate_and_write_s', 'reused')} s; "
        f"CSV MB {data.get('csv_mb')}.",
        "",
        "## Results",
        "",
        "Wall = the child process (dbt, exec_sql.py or pandas_ltv.py), seconds. "
        "Models = run_results.json `elapsed_time` (dbt's execution phase, without "
        "start-up and parsing) or, for (b), the `create table` statement alone. "
        "Σ nodes = sum of per-model `execution_time` (2 threads, so it can exceed "
        "elapsed). CPU = user+system seconds of the child (wait4) and, on PostgreSQL, "
        "of the database's backends (polled; CPU is the less noisy measure when the "
        "machine is busy). Client RSS = peak resident memory of the child and its "
        "children, polled every 0.05 s (for DuckDB the engine runs inside it; for "
        "PostgreSQL it is only the client). Server USS = PostgreSQL only: the peak "
        "sum of private memory (USS) of the database's backends and parallel workers, "
        "polled every 0.2 s (shared_buffers excluded). Temp = bytes PostgreSQL wrote "
        "to temporary files (sorts/hashes over work_mem), pg_stat_database delta.",
        "",
    ]
    for engine in report["engines"]:
        res = report["results"][engine]
        server = engine == "postgres"
        a, b, d = res.get("a_dbt_run"), res.get("b_expert_sql"), res.get("d_dbt_run")
        e = res.get("e_dbt_test")
        lines += [
            f"### {engine}",
            "",
            "| step | status | wall s | models s | Σ nodes s | client CPU s | server CPU s | "
            "client peak RSS MB | server peak USS MB | temp MB |",
            "|---|---|---|---|---|---|---|---|---|---|",
            step_row("load raw (read_csv / COPY + ANALYZE)", res.get("load"), server=server),
            step_row("(a) dbt run, all models", a, a and a.get("elapsed_time_s"), server),
            step_row("(b) expert SQL, create table", b, b and b.get("statement_s"), server),
            step_row("(c) pandas from CSV (engine-free)", report.get("pandas"),
                     (report.get("pandas") or {}).get("compute_s")),
            step_row("(d) load delta", res.get("d_load_delta"), server=server),
            step_row("(d) dbt run after the delta", d, d and d.get("elapsed_time_s"), server),
            step_row("(e) dbt test after (d) (what dbt build adds)", e,
                     e and e.get("elapsed_time_s"), server),
            "",
            f"- **(a)/(b) = {fmt(res.get('ratio_a_over_b'))}** (models' time over the "
            f"expert statement); **(d)/(a) = {fmt(res.get('ratio_d_over_a'))}**. "
            f"On CPU seconds ({'backends' if server else 'the dbt process, dbt itself included'}): "
            f"(a)/(b) = {fmt(res.get('cpu_ratio_a_over_b'))}, "
            f"(d)/(a) = {fmt(res.get('cpu_ratio_d_over_a'))}.",
        ]  # fmt: skip
        if b and b.get("statement_s_by_setting") and len(b["statement_s_by_setting"]) > 1:
            lines.append(
                f"- (b) ran with each setting, seconds: {b['statement_s_by_setting']}; "
                f"the ratio uses the faster ({b['setting']})."
            )
        if server:
            for key, label in (("a_dbt_run", "(a)"), ("b_expert_sql", "(b)"), ("d_dbt_run", "(d)")):
                s = res.get(key) or {}
                if "server_cpu_s" in s:
                    lines.append(
                        f"- {label} server CPU {s['server_cpu_s']} s, client CPU "
                        f"{s['client_cpu_s']} s, peak backends {s['server_peak_backends']}, "
                        f"temp files {s.get('server_temp_files')}"
                    )
        for key, label in (("a_dbt_run", "(a)"), ("d_dbt_run", "(d)"), ("e_dbt_test", "(e)")):
            step = res.get(key)
            if step and step.get("nodes"):
                top = ", ".join(
                    f"{n['model']} ({n.get('materialized') or '?'}) {n['execution_time_s']}s"
                    for n in top_models(step)
                )
                kind = "tests" if key == "e_dbt_test" else "models"
                lines.append(f"- {label} slowest {kind}: {top}")
            if step and step.get("status") == "timeout":
                lines.append(
                    f"- {label} **stopped after {step['wall_s']} s (timeout)**; the models "
                    f"above are those that had finished (from dbt's console log)."
                )
            elif step and step.get("status") != "ok":
                lines.append(f"- {label} {step['status']}: {step.get('error_tail', '')[-300:]!r}")
        lines.extend(floor_lines(a, b, d))
        shas = {k: (res.get(k) or {}).get("models_sha256") for k in ("a_dbt_run", "d_dbt_run")}
        changed = [k for k in ("a_dbt_run", "d_dbt_run") if (res.get(k) or {}).get(
            "models_changed_during_run")]
        if (None not in shas.values() and len(set(shas.values())) > 1) or changed:
            lines.append(
                f"- **warning: model or macro files changed while this ran** (sha256 at the "
                f"start of each run {shas}; changed during {changed}): the runs may not "
                f"have measured the same code."
            )
        if res.get("explain_expert"):
            lines.append(f"- EXPLAIN ANALYZE of (b): {res['explain_expert']}")
        if res.get("validation"):
            v = res["validation"]
            lines.append(
                f"- check: users where (b) differs from dbt's user_ltv: "
                f"{v['users_differing_from_user_ltv']}; (b) totals equal pandas (c): "
                f"{v['matches_pandas']}"
            )
        if res.get("validation_d"):
            lines.append(
                "- check after (d): users where the expert statement on the raw data "
                "with the delta differs from the refreshed user_ltv: "
                f"{res['validation_d']['users_differing_from_user_ltv']}"
            )
        for e in res.get("explain_slowest") or []:
            lines.append(f"- EXPLAIN ANALYZE of a slowest model: {e}")
        lines.append("")
    pg = report["results"].get("postgres", {})
    if "postgres" in report["engines"] and not pg.get("analyst_fresh"):
        why = (
            "`--analyst-runs 0`" if not report.get("analyst_runs") else
            "(a) did not finish on PostgreSQL, so there are no marts to query "
            "(rerun with a larger `--timeout`)"
        )
        lines += ["## Analyst queries on PostgreSQL", "", f"Not run: {why}.", ""]
    lines += list_grid_lines(pg.get("list_grid"), pg.get("index_costs"))
    block = pg.get("analyst_fresh")
    if block:
        lines += [
            "## Other analyst queries on PostgreSQL, as dbt left user_ltv",
            "",
            f"user_ltv statistics state (relname, n_live_tup, last_analyze, "
            f"last_autoanalyze): {block['user_ltv_stats']}",
            "",
            f"| query | median ms ({report.get('analyst_runs')} runs after warm-up) "
            "| index used | plan nodes |",
            "|---|---|---|---|",
        ]
        for q in block["queries"]:
            lines.append(
                f"| {q['query']} | {q['median_ms']} | "
                f"{'yes: ' + ', '.join(q['indexes']) if q['uses_index'] else 'no'} | "
                f"{' → '.join(q['plan_nodes'])} |"
            )
        lines.append("")
    return "\n".join(lines)


# -------------------------------------------------------------------------- main


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
    }

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
        for key in ("a_dbt_run", "d_dbt_run", "e_dbt_test"):
            for node in (res.get(key) or {}).get("nodes", []):
                node.pop("compiled_code", None)
    markdown = render_markdown(report)
    report_json = json.dumps(report, indent=1, default=str)
    stem = f"users_{args.users}"  # one file per scale: the latest run of that scale
    (args.results_dir / f"{stem}.md").write_text(markdown)
    (args.results_dir / f"{stem}.json").write_text(report_json)
    print()
    print(markdown)
    log(f"done in {report['total_wall_s']} s; results in {args.results_dir}")


if __name__ == "__main__":
    main()
