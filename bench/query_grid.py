"""The user list's queries as a grid, timed on PostgreSQL as `dbt build` leaves user_ltv.

Every query is the SQL of analyses/user_list_page.sql and user_list_total.sql
(macros/ltv_user_list.sql), compiled by dbt once for the whole grid (`dbt compile
--inline`), so the benchmark times exactly what an analyst runs. A cell of the grid
is one filter, one sort field and direction, one page size and page; its time is
the page's median plus its total's median (the list answers both together).
Also: what each index of user_ltv costs (build seconds, size) and whether the
visibility map covers the table (counts from an index alone need it).
"""

from __future__ import annotations

import json
import re
import statistics
import time

SORT_FIELDS = (
    "signup_date", "revenue_3m", "revenue_6m", "revenue_12m", "revenue_lifetime",
    "orders_lifetime", "aov_lifetime", "days_since_last_order",
)  # fmt: skip
DIRECTIONS = ("asc", "desc")
# (label, vars): no filter, then one of each kind, wide and narrow.
FILTERS = (
    ("no filter", {}),
    ("segment VIP", {"segment": "VIP"}),
    ("segment Medium", {"segment": "Medium"}),
    ("segment New", {"segment": "New"}),
    ("channel organic", {"channel": "organic"}),
    ("channel affiliate", {"channel": "affiliate"}),
    ("signup 2024-Q1", {"signup_from": "2024-01-01", "signup_to": "2024-04-01"}),
    ("signup 2021..2024", {"signup_from": "2021-01-01", "signup_to": "2025-01-01"}),
    ("revenue_3m 50..100", {"revenue_horizon": "3m", "revenue_min": 50, "revenue_max": 100}),
    ("revenue_6m >= 1000", {"revenue_horizon": "6m", "revenue_min": 1000}),
    ("revenue_12m 0..1", {"revenue_horizon": "12m", "revenue_min": 0, "revenue_max": 1}),
    ("revenue_lifetime 100..250", {"revenue_min": 100, "revenue_max": 250}),
    ("orders >= 10", {"min_orders": 10}),
)  # fmt: skip
PAGES = ((25, 1), (50, 20), (100, 20))
TARGET_MS = 50
DEFAULTS = {  # as ltv_user_list_settings() defaults them
    "segment": None, "channel": None, "signup_from": None, "signup_to": None,
    "revenue_horizon": "lifetime", "revenue_min": None, "revenue_max": None,
    "min_orders": None, "sort": "revenue_lifetime", "direction": "desc",
    "page_size": 50, "page": 1, "sort_range_max_users": 100000,
}  # fmt: skip


def grid() -> list:
    """Every cell: filter label, sort, direction, page size, page and its settings."""
    return [
        {
            "filter": label, "sort": sort, "direction": direction,
            "page_size": size, "page": page,
            "settings": {**DEFAULTS, **filters, "sort": sort, "direction": direction,
                         "page_size": size, "page": page},
        }  # fmt: skip
        for label, filters in FILTERS
        for sort in SORT_FIELDS
        for direction in DIRECTIONS
        for size, page in PAGES
    ]


def inline_sql(cells: list) -> str:
    """One dbt inline text that renders every page and every filter's total, each
    after a marker line; the loops run in Jinja, in the order of grid()."""
    filters = [{**DEFAULTS, **f} for _, f in FILTERS]
    assert len(cells) == len(filters) * len(SORT_FIELDS) * len(DIRECTIONS) * len(PAGES)
    return (
        "{% set filters = fromjson('" + json.dumps(filters) + "') %}"
        "{% set sorts = fromjson('" + json.dumps(SORT_FIELDS) + "') %}"
        "{% set directions = fromjson('" + json.dumps(DIRECTIONS) + "') %}"
        "{% set pages = fromjson('" + json.dumps(PAGES) + "') %}"
        "{% set n = namespace(i=0) %}"
        "{% for f in filters %}{% for sort in sorts %}{% for direction in directions %}"
        "{% for size_page in pages %}"
        "{% set s = {} %}{% do s.update(f) %}"
        "{% do s.update({'sort': sort, 'direction': direction, "
        "'page_size': size_page[0], 'page': size_page[1]}) %}"
        "\n-- @@page {{ n.i }}\n{{ ltv_user_list_page(ltv_user_list_checked(s)) }}\n"
        "{% set n.i = n.i + 1 %}"
        "{% endfor %}{% endfor %}{% endfor %}{% endfor %}"
        "{% for f in filters %}\n-- @@total {{ loop.index0 }}\n"
        "{{ ltv_user_list_total(ltv_user_list_checked(f)) }}\n{% endfor %}"
    )


def split_compiled(text: str, cells: list) -> tuple[list, dict]:
    """The compiled inline text back into one SQL per page and per filter."""
    parts = re.split(r"^-- @@(page|total) (\d+)\n", text, flags=re.M)
    pages, totals = {}, []
    for kind, index, sql in zip(parts[1::3], parts[2::3], parts[3::3]):
        if kind == "page":
            pages[int(index)] = sql.strip()
        else:
            totals.append(sql.strip())
    labels = list(dict.fromkeys(c["filter"] for c in cells))
    return [pages[i] for i in range(len(cells))], dict(zip(labels, totals))


def median_ms(cursor, sql: str, runs: int) -> float:
    cursor.execute(sql)
    cursor.fetchall()  # warm-up
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        cursor.execute(sql)
        cursor.fetchall()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def time_grid(connection, page_sql: list, total_sql: dict, cells: list, runs: int) -> dict:
    cursor = connection.cursor()
    totals_ms = {label: round(median_ms(cursor, sql, runs), 2) for label, sql in total_sql.items()}
    timed = []
    for cell, sql in zip(cells, page_sql):
        page_ms = round(median_ms(cursor, sql, runs), 2)
        timed.append({
            **{k: cell[k] for k in ("filter", "sort", "direction", "page_size", "page")},
            "page_ms": page_ms,
            "total_ms": totals_ms[cell["filter"]],
            "ms": round(page_ms + totals_ms[cell["filter"]], 2),
            "sql": sql,
        })  # fmt: skip
    timed.sort(key=lambda c: -c["ms"])
    for cell in timed[:5]:  # the plans of the slowest
        cursor.execute("explain (analyze, buffers) " + cell["sql"])
        cell["plan"] = "\n".join(r[0] for r in cursor.fetchall())
    for label in sorted(totals_ms, key=lambda k: -totals_ms[k])[:3]:
        cursor.execute("explain (analyze, buffers) " + total_sql[label])
        totals_ms[label] = {
            "ms": totals_ms[label], "plan": "\n".join(r[0] for r in cursor.fetchall())
        }
    return {
        "cells": len(timed),
        "runs": runs,
        "over_target": sum(c["ms"] >= TARGET_MS for c in timed),
        "slowest": timed[:10],
        "totals_ms": totals_ms,
        "all": [{k: c[k] for k in c if k not in ("sql", "plan")} for c in timed],
    }


def index_costs(connection, schema: str, table: str = "user_ltv") -> dict:
    """Each index's size, and the seconds to build it again on the table as it is
    (a copy under another name, dropped after). Also the table's size and how much
    of it the visibility map marks all-visible."""
    cursor = connection.cursor()
    cursor.execute(
        "select c.relpages, c.relallvisible, pg_relation_size(c.oid) "
        "from pg_class as c where c.oid = %s::regclass",
        (f"{schema}.{table}",),
    )
    relpages, relallvisible, table_bytes = cursor.fetchone()
    cursor.execute(
        "select i.relname, pg_get_indexdef(i.oid), pg_relation_size(i.oid) "
        "from pg_index as x join pg_class as i on i.oid = x.indexrelid "
        "where x.indrelid = %s::regclass order by 2",
        (f"{schema}.{table}",),
    )
    indexes = []
    for name, indexdef, size in cursor.fetchall():
        columns = re.search(r"USING \w+ \((.*)\)", indexdef).group(1)
        start = time.perf_counter()
        cursor.execute(f"create index bench_index_probe on {schema}.{table} ({columns})")
        seconds = time.perf_counter() - start
        cursor.execute(f"drop index {schema}.bench_index_probe")
        indexes.append({
            "columns": columns, "unique": "UNIQUE" in indexdef,
            "mb": round(size / 2**20, 1), "build_s": round(seconds, 2),
        })  # fmt: skip
    return {
        "table_mb": round(table_bytes / 2**20, 1),
        "relpages": relpages,
        "relallvisible": relallvisible,
        "indexes": indexes,
        "indexes_mb": round(sum(i["mb"] for i in indexes), 1),
        "indexes_build_s": round(sum(i["build_s"] for i in indexes), 2),
    }
