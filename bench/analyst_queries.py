"""The analysts' other queries on PostgreSQL (summary, distribution, one user), timed."""

from __future__ import annotations

import re
import statistics
import time


from common import DBT_SCHEMA, pg_connect


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

