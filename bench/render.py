"""The report as Markdown."""

from __future__ import annotations

import api_timing
import query_grid
from common import LIFETIMES_VERSION
from dbt_steps import CLV_SCORING_MODELS, floor_lines, top_models


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
    lines = ["## The user list as the service answers it (PostgreSQL's marts)", ""]
    if grid.get("status") != "ok":
        return lines + [f"Not run: {grid.get('status')} {grid.get('error_tail', '')[-300:]!r}", ""]
    slowest = grid["slowest"][0]
    lines += [
        f"{grid['cells']} cells (serve/app/queries.py on the service's in-memory copy, "
        f"loaded in {grid.get('snapshot_load_s')} s; bench/query_grid.py): "
        f"{len(query_grid.FILTERS)} filters × "
        f"{len(query_grid.SORT_FIELDS)} sort fields × both directions × pages "
        f"{', '.join(f'{p} of {s}' for s, p in query_grid.PAGES)}. A cell's time is "
        f"the median of {grid['runs']} runs after a warm-up of its page plus that of "
        f"its total. **Slowest: {slowest['ms']} ms** ({slowest['filter']}, "
        f"{slowest['sort']} {slowest['direction']}, page {slowest['page']} of "
        f"{slowest['page_size']}); cells at or over {query_grid.TARGET_MS} ms: "
        f"{grid['over_target']}. One user: {grid.get('one_user_ms')} ms.",
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
    return lines


def header_lines(report: dict) -> list:
    """Run, project, machine, data and how to read the tables."""
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
    return lines


def node_seconds(step: dict, model: str):
    """The execution seconds of one model of a dbt step (None when it did not run)."""
    return next((n["execution_time_s"] for n in step.get("nodes", [])
                 if n["unique_id"].startswith("model.") and n["model"] == model), None)


def engine_lines(report: dict, engine: str) -> list:
    """One engine's steps, ratios, bounds, slowest models and checks."""
    res = report["results"][engine]
    lines = []
    server = engine == "postgres"
    a, b, d = res.get("a_dbt_run"), res.get("b_expert_sql"), res.get("d_dbt_run")
    e = res.get("e_dbt_build")
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
        step_row("(e) dbt build after (d), tests and switch", e,
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
    base = res.get("baseline_dbt_build")
    if base and base.get("elapsed_time_s") and e and e.get("elapsed_time_s"):
        lines.append(
            f"- **`dbt build` before/after**: the project at {base['commit']} took "
            f"{base['elapsed_time_s']} s (wall {base['wall_s']} s), this one "
            f"{e['elapsed_time_s']} s (wall {e['wall_s']} s) on the same data: "
            f"{round(e['elapsed_time_s'] / base['elapsed_time_s'], 2)}; user_ltv "
            f"{node_seconds(base, 'user_ltv')} s before, {node_seconds(e, 'user_ltv')} s after"
        )
    if res.get("api"):
        lines += api_timing.api_lines(engine, res["api"])
    if res.get("publish_switch_s") is not None:
        lines.append(
            f"- (e) `dbt build` published its marts with a switch of "
            f"{res['publish_switch_s']} s (the run's last hook)"
        )
    for key, label in (("a_dbt_run", "(a)"), ("d_dbt_run", "(d)"), ("e_dbt_build", "(e)")):
        step = res.get(key)
        if step and step.get("nodes"):
            top = ", ".join(
                f"{n['model']} ({n.get('materialized') or '?'}) {n['execution_time_s']}s"
                for n in top_models(step)
            )
            kind = "nodes" if key == "e_dbt_build" else "models"
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
    return lines


def postgres_query_lines(report: dict) -> list:
    """The user list grid and the other analyst queries on PostgreSQL."""
    lines = []
    if report.get("mode", "full") != "full":  # the --*-only modes run no analyst query
        return lines
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
    return lines


def clv_lines(report: dict) -> list:
    """Predicted CLV: the fit before (a), and the scoring models' share of (a)."""
    lines = [
        "## Predicted CLV: fit and scoring",
        "",
        "Before (a), `scripts/fit_clv.py` (`make fit-clv`) builds what it reads "
        "(+int_revenue_days_aggregated), then fits BG/NBD and Gamma-Gamma as of the "
        "as-of date and as of the backtest's calibration end: its own work is its plan "
        "(`dbt compile` of the query, and the connection), reading the grouped rows, "
        "both fits and storing them (target: at most 10 s at 1M "
        "users). (a) then scores every user with that fit. Scoring "
        "is the `execution_time` in (a) of " + ", ".join(
            f"`{m}`" for m in CLV_SCORING_MODELS
        ) + "; target: at most 0.25 of (a)'s models' time.",
        "",
        "| engine | fit (s) | its build (s) | its own work (s) | plan / read / fit / store (s) "
        "| fit load average | scoring (s) | by model (s) | users scored "
        "| distinct (frequency, t) | (a) models (s) | scoring / (a) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for engine in report["engines"]:
        res = report["results"][engine]
        clv = res.get("clv_scoring")
        if not clv:
            lines.append(f"| {engine} | not run | | | | | | | | | | |")
            continue
        steps = (res.get("clv_fit") or {}).get("steps_s") or {}
        own = " / ".join(fmt(steps.get(k)) for k in ("plan_s", "read_s", "fit_s", "store_s"))
        by_model = ", ".join(f"{m} {t}" for m, t in clv["scoring_s_by_model"].items())
        lines.append(
            f"| {engine} | {fmt(clv['fit_wall_s'])} ({clv['fit_status']}) "
            f"| {fmt(clv.get('fit_build_s'))} | {fmt(clv.get('fit_own_work_s'))} "
            f"| {own} "
            f"| {fmt(clv['fit_load_average'])} | {fmt(clv['scoring_s'])} | {by_model} "
            f"| {fmt(clv['user_clv_rows'])} | {fmt(clv['series_groups'])} "
            f"| {fmt((res.get('a_dbt_run') or {}).get('elapsed_time_s'))} "
            f"| {fmt(clv.get('ratio_scoring_over_a'))} |"
        )
    return lines + [""] + lifetimes_lines(report)


def lifetimes_lines(report: dict) -> list:
    """lifetimes beside our fit, on the grouped rows the fit read as of the as-of date."""
    ran = {e: report["results"][e]["clv_lifetimes"] for e in report["engines"]
           if report["results"][e].get("clv_lifetimes")}  # fmt: skip
    if not ran:
        return []
    lines = [
        f"lifetimes {LIFETIMES_VERSION} beside it (`bench/lifetimes_fit.py`, its own venv): "
        "the grouped rows the fit read as of the as-of date (`bench/clv_groups.py`, "
        "with `fit_clv`'s own query), each row weighted by its customers, fitted by "
        "`fit_clv.fit_groups` and by BetaGeoFitter and GammaGammaFitter (penalizer 0); "
        "fit seconds alone, without reading the rows (the fit command fits these and "
        "the calibration end's).",
        "",
        "| engine | grouped rows BG/NBD, Gamma-Gamma | customers | our fit of them (s) "
        "| lifetimes BG/NBD (s) | lifetimes Gamma-Gamma (s) | largest relative difference |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for engine, lt in ran.items():
        if "rows" not in lt:
            lines.append(f"| {engine} | {lt['status']} | | | | | |")
            continue
        fit_s = lt.get("lifetimes_fit_s") or {}
        difference = lt.get("max_relative_difference")
        lines.append(
            f"| {engine} | {lt['rows']['bg_nbd']:,}, {lt['rows']['gamma_gamma']:,} "
            f"| {', '.join(f'{n:,}' for n in lt['customers'].values())} "
            f"| {lt['ours_fit_s']} | {fmt(fit_s.get('bg_nbd'))} "
            f"| {fmt(fit_s.get('gamma_gamma'))} "
            f"| {'–' if difference is None else f'{difference:.1e}'} |"
        )
    lines += ["", "| engine | parameter | ours | lifetimes |", "| --- | --- | --- | --- |"]
    for engine, lt in ran.items():
        for name, value in (lt.get("lifetimes") or {}).items():
            lines.append(f"| {engine} | {name} | {lt['ours'][name]:.10g} | {value:.10g} |")
    return lines + [""]


def render_markdown(report: dict) -> str:
    lines = header_lines(report)
    for engine in report["engines"]:
        lines += engine_lines(report, engine)
    lines += clv_lines(report)
    lines += postgres_query_lines(report)
    return "\n".join(lines)
