"""The SQL steps: bulk loads, the expert statement, its checks, EXPLAIN ANALYZE."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path


from common import BENCH_DIR, DBT_SCHEMA, LTV_COLUMNS, PROJECT_DIR, RAW_COLUMNS, RAW_SCHEMA
from timing import sql_job


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
        fx_table=f"{DBT_SCHEMA}_staging.fx_rates",
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


def pending_user_ltv(engine: str) -> str:
    """Where `dbt run` leaves user_ltv: it publishes nothing (README, "One build or
    none"), so the mart waits as its pending table (macro ltv_pending_relation)."""
    if engine == "postgres":
        return f"{DBT_SCHEMA}_pending.user_ltv"
    return f"{DBT_SCHEMA}.user_ltv__pending"


def validation_steps(engine: str) -> list:
    mismatch = " or ".join(f"u.{c} <> e.{c}" for c in LTV_COLUMNS)
    sums = ", ".join(f"sum({c})" for c in LTV_COLUMNS)
    return [
        {
            "name": "mismatching_users",
            "fetch": True,
            "sql": f"select count(*) from {pending_user_ltv(engine)} as u "
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

