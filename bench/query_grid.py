"""The user list as a grid, timed as the service answers it (serve/).

The service answers the list from its in-memory DuckDB copy of the published marts
(serve/app/core/snapshot.py), on either engine, with the named queries of
serve/app/queries.py. The grid copies the marts once as the service does (timed:
the snapshot's load), then times every cell: one filter, one sort column and
direction, one page size and page; a cell's time is its page's median plus its
total's median (the API answers both together). Also one user's row, and what each
index of user_ltv costs in the warehouse (build seconds, size).
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the service, serve/

from serve.app import queries  # noqa: E402

SORT_FIELDS = (
    "signup_date", "revenue_3m", "revenue_6m", "revenue_12m", "revenue_lifetime",
    "orders_lifetime", "aov_lifetime", "days_since_last_order",
)  # fmt: skip
DIRECTIONS = ("asc", "desc")
# (label, the API's parameters): no filter, then one of each kind, wide and narrow.
FILTERS = (
    ("no filter", {}),
    ("segment VIP", {"segment": "VIP"}),
    ("segment Medium", {"segment": "Medium"}),
    ("segment New", {"segment": "New"}),
    ("channel organic", {"channel": "organic"}),
    ("channel affiliate", {"channel": "affiliate"}),
    ("signup 2024-Q1", {"signup_from": "2024-01-01", "signup_to": "2024-03-31"}),
    ("signup 2021..2024", {"signup_from": "2021-01-01", "signup_to": "2024-12-31"}),
    ("revenue_3m 50..100", {"revenue_horizon": "3m", "min_revenue": 50, "max_revenue": 100}),
    ("revenue_6m >= 1000", {"revenue_horizon": "6m", "min_revenue": 1000}),
    ("revenue_12m 0..1", {"revenue_horizon": "12m", "min_revenue": 0, "max_revenue": 1}),
    ("revenue_lifetime 100..250", {"min_revenue": 100, "max_revenue": 250}),
    ("orders >= 10", {"min_orders": 10}),
)  # fmt: skip
PAGES = ((25, 1), (50, 20), (100, 20))
TARGET_MS = 50
ONE_USER_TARGET_MS = 5


def grid() -> list:
    """Every cell: filter label and parameters, sort, direction, page size, page."""
    return [
        {"filter": label, "filters": filters, "sort": sort, "direction": direction,
         "page_size": size, "page": page}  # fmt: skip
        for label, filters in FILTERS
        for sort in SORT_FIELDS
        for direction in DIRECTIONS
        for size, page in PAGES
    ]


def median_ms(call, runs: int) -> float:
    """The median milliseconds of `call()` over `runs` calls after a warm-up."""
    call()
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def time_grid(snapshot, cells: list, runs: int) -> dict:
    """Every cell's page and total on the snapshot, and one user's row."""
    totals_ms, timed = {}, []
    for cell in cells:
        where, values = queries.user_filter(cell["filters"])
        if cell["filter"] not in totals_ms:
            totals_ms[cell["filter"]] = round(median_ms(
                lambda: snapshot.scalar(queries.user_count(where), values), runs
            ), 2)  # fmt: skip
        offset = (cell["page"] - 1) * cell["page_size"]
        page_ms = round(median_ms(lambda: snapshot.user_page(
            where, values, cell["sort"], cell["direction"] == "desc", cell["page_size"],
            offset,
        ), runs), 2)  # fmt: skip
        timed.append({
            **{k: cell[k] for k in ("filter", "sort", "direction", "page_size", "page")},
            "page_ms": page_ms,
            "total_ms": totals_ms[cell["filter"]],
            "ms": round(page_ms + totals_ms[cell["filter"]], 2),
        })  # fmt: skip
    timed.sort(key=lambda c: -c["ms"])
    some_user = snapshot.scalar("select max(user_id) from user_ltv")
    return {
        "cells": len(timed),
        "runs": runs,
        "over_target": sum(c["ms"] >= TARGET_MS for c in timed),
        "slowest": timed[:10],
        "totals_ms": totals_ms,
        "one_user_ms": round(median_ms(
            lambda: snapshot.rows(queries.ONE_USER, [some_user]), runs
        ), 2),  # fmt: skip
        "all": timed,
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
