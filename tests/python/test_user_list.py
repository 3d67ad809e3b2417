"""The user list (analyses/user_list_page.sql, user_list_total.sql) on DuckDB.

Page n of a sort is the n-th slice of the whole list sorted in Python (nulls
largest, ties broken by user_id the sort's way), for every sort field both ways,
with and without a filter; the pages together are the whole list; the total
counts it. The other analyses compile with their default vars and return rows on
the demo. Built once: the demo's user_ltv and what it reads, in its own file.
"""

import json
import re
from datetime import date
from decimal import Decimal

import pytest

from harness import PROJECT_DIR
from harness.dbt_runs import invoke_dbt, project_args
from harness.warehouses import DuckDbWarehouse
from dbt.cli.main import dbtRunner

DEMO_AS_OF = "2026-07-01"
MART_SCHEMA = "ltv_user_list"
SORT_FIELDS = (
    "signup_date", "revenue_3m", "revenue_6m", "revenue_12m", "revenue_lifetime",
    "orders_lifetime", "aov_lifetime", "days_since_last_order",
)  # fmt: skip
# label -> (list settings, the same filter in Python)
FILTERS = {
    "none": ({}, lambda u: True),
    "segment Medium": ({"segment": "Medium"}, lambda u: u["ltv_segment"] == "Medium"),
    "channel paid_search": (
        {"channel": "paid_search"},
        lambda u: u["acquisition_channel"] == "paid_search",
    ),
    "signup 2024": (
        {"signup_from": "2024-01-01", "signup_to": "2025-01-01"},
        lambda u: date(2024, 1, 1) <= u["signup_date"] < date(2025, 1, 1),
    ),
    "revenue_6m 10..200": (
        {"revenue_horizon": "6m", "revenue_min": 10, "revenue_max": 200},
        lambda u: Decimal(10) <= u["revenue_6m"] < Decimal(200),
    ),
    "orders >= 5": ({"min_orders": 5}, lambda u: u["orders_lifetime"] >= 5),
    # every user, those without an order (null AOV) too
    "orders >= 0": ({"min_orders": 0}, lambda u: True),
}
PAGE_COLUMNS = 12  # columns of a page row


class Demo:
    def __init__(self, warehouse: DuckDbWarehouse, args: list):
        self.warehouse = warehouse
        self.args = args  # project, profile, target and paths for every dbt command

    def compile_inline(self, text: str) -> str:
        result = dbtRunner().invoke(["compile", *self.args, "--inline", text])
        assert result.success, result.exception
        return result.result.results[0].node.compiled_code

    def rows(self, sql: str) -> list:
        return self.warehouse.query_table(sql).rows


@pytest.fixture(scope="module")
def demo(profiles_dir, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp("user_list")
    warehouse = DuckDbWarehouse(work_dir, MART_SCHEMA)
    args = project_args(
        "duckdb", json.dumps({"ltv_as_of_date": DEMO_AS_OF}), work_dir, profiles_dir
    )
    with pytest.MonkeyPatch.context() as env:
        for name, value in warehouse.dbt_env().items():
            env.setenv(name, value)
        invoke_dbt(["seed", *args])
        invoke_dbt(["run", *args, "--select", "+user_ltv_counts", "+user_rfm", "+ltv_cohorts",
                 "+ltv_summary", "+ltv_distribution", "+ltv_by_channel"])  # fmt: skip
        yield Demo(warehouse, args)


def sorted_users(users: list, sort: str, direction: str) -> list:
    """Nulls as the largest value, ties by user_id, both the sort's way."""
    ascending = sorted(
        users, key=lambda u: (u[sort] is None, u[sort] or 0, u["user_id"])
    )
    return ascending if direction == "asc" else ascending[::-1]


def pages_inline(cases: list) -> str:
    """One dbt inline text rendering the page of every case after a marker line."""
    return "".join(
        "{% set s = fromjson('" + json.dumps(settings) + "') %}"
        f"\n-- @@case {i}\n"
        "{{ ltv_user_list_page(ltv_user_list_settings(s)) }}\n"
        for i, settings in enumerate(cases)
    )


def split_cases(compiled: str) -> list:
    return [sql.strip() for sql in re.split(r"^-- @@case \d+\n", compiled, flags=re.M)[1:]]


# The page's two ways to find its users (ltv_user_list_page): every range filter
# of the demo keeps fewer users than the default, so it is read and sorted; with
# 0, walked in the sort's order.
SORT_RANGE_MAX_USERS = (100_000, 0)


@pytest.mark.parametrize("max_users", SORT_RANGE_MAX_USERS)
def test_every_page_is_its_slice_of_the_sorted_list(demo, max_users):
    users = demo.rows(f"select * from {MART_SCHEMA}.user_ltv")
    assert len({u["revenue_lifetime"] for u in users}) < len(users), "no ties to test"
    cases, expected = [], []
    for label, (filters, keep) in FILTERS.items():
        kept = [u for u in users if keep(u)]
        assert kept, label
        for sort in SORT_FIELDS:
            for direction in ("asc", "desc"):
                ordered = [u["user_id"] for u in sorted_users(kept, sort, direction)]
                size = 100 if label == "none" else 25
                # Every page of the unfiltered list, and one past its end; three
                # pages (first, second, last) of each filtered one.
                last = -(-len(ordered) // size)
                pages = range(1, last + 2) if label == "none" else (1, 2, last)
                for page in pages:
                    cases.append({**filters, "sort": sort, "direction": direction,
                                  "page_size": size, "page": page,
                                  "sort_range_max_users": max_users})  # fmt: skip
                    expected.append(ordered[(page - 1) * size : page * size])
    sqls = split_cases(demo.compile_inline(pages_inline(cases)))
    assert len(sqls) == len(cases)
    assert any(f"<= {max_users}" in sql and "sorted_range" in sql for sql in sqls)
    wrong = []
    for case, sql, want in zip(cases, sqls, expected):
        got = [r["user_id"] for r in demo.rows(sql)]
        if got != want:
            wrong.append(f"{case}: got {got[:5]}..., want {want[:5]}...")
    assert not wrong, f"{len(wrong)} of {len(cases)} pages differ:\n" + "\n".join(wrong[:10])


# A revenue range on one horizon, for the bounds it implies on the others.
REVENUE_RANGES = (("12m", 0, 1), ("6m", 10, 200), ("3m", 50, 100), ("lifetime", 100, 250))
HORIZONS = ("3m", "6m", "12m", "lifetime")
# Sort fields that tell users without a revenue order (0 orders, null AOV and days
# since the last order), which a revenue above 0 rules out.
ORDER_SORTS = {
    "orders": "orders_lifetime", "aov": "aov_lifetime", "days": "days_since_last_order",
}  # fmt: skip


@pytest.mark.parametrize("max_users", SORT_RANGE_MAX_USERS)
def test_a_revenue_range_sorted_by_another_revenue_keeps_every_user(demo, max_users):
    """A page filtered on one revenue and sorted by another carries the bound the
    filter implies on the sort field (revenue_3m <= 6m <= 12m <= lifetime, user by
    user, complete horizons or not); sorted by orders, AOV or days since the last
    order, a revenue above 0 rules out users without an order. Every page of each such list,
    together, is the whole list: a bound that drops a user fails. The demo makes
    a wrong bound visible: kept users whose sort revenue lies outside the
    filter's range (a longer horizon above it, a shorter one below it), on
    exactly its lower end, without a revenue order, and with horizons not
    complete."""
    users = demo.rows(f"select * from {MART_SCHEMA}.user_ltv")
    cases, expected = [], []
    for horizon, low, high in REVENUE_RANGES:
        kept = [u for u in users if low <= u[f"revenue_{horizon}"] < high]
        assert any(not u["is_12m_complete"] for u in kept), horizon
        if low == 0:  # users without a revenue order
            assert any(u["orders_lifetime"] == 0 for u in kept), horizon
        for other in [h for h in HORIZONS if h != horizon] + list(ORDER_SORTS):
            sort = ORDER_SORTS.get(other, f"revenue_{other}")
            if other in HORIZONS[HORIZONS.index(horizon) + 1 :]:
                assert any(u[sort] >= high for u in kept), (horizon, other)
            elif other in HORIZONS and low > 0:
                assert any(u[sort] < low for u in kept), (horizon, other)
            for direction in ("asc", "desc"):
                ordered = [u["user_id"] for u in sorted_users(kept, sort, direction)]
                for page in range(1, -(-len(ordered) // 100) + 1):
                    cases.append({"revenue_horizon": horizon, "revenue_min": low,
                                  "revenue_max": high, "sort": sort,
                                  "direction": direction, "page_size": 100,
                                  "page": page,
                                  "sort_range_max_users": max_users})  # fmt: skip
                    expected.append(ordered[(page - 1) * 100 : page * 100])
    assert any(u["revenue_lifetime"] == 0 and u["revenue_12m"] == 0 for u in users)
    sqls = split_cases(demo.compile_inline(pages_inline(cases)))
    assert len(sqls) == len(cases)
    assert any("revenue_lifetime >= 10" in sql for sql in sqls)
    # a revenue of at least 0 bounds nothing: revenue is never negative
    assert not any("revenue_12m >= 0" in sql for sql in sqls)
    assert any(f"<= {max_users}" in sql and "sorted_range" in sql for sql in sqls)
    wrong = [
        f"{case}: got {len(got)} users, want {len(want)}"
        for case, sql, want in zip(cases, sqls, expected)
        if (got := [r["user_id"] for r in demo.rows(sql)]) != want
    ]
    assert not wrong, f"{len(wrong)} of {len(cases)} pages differ:\n" + "\n".join(wrong[:10])


def total_cases(users: list) -> list:
    """(settings, Python filter) for every kind of single filter, at its edges
    (values that exist, bounds on a value, empty and reversed ranges, past the
    ends), none, and two filters together (counted on user_ltv)."""
    cases = [({}, lambda u: True)]
    for segment in ("VIP", "High", "Medium", "Low", "New"):
        cases.append(({"segment": segment}, lambda u, v=segment: u["ltv_segment"] == v))
    for channel in sorted({u["acquisition_channel"] for u in users}) + ["no_such_channel"]:
        cases.append(({"channel": channel},
                      lambda u, v=channel: u["acquisition_channel"] == v))  # fmt: skip
    signups = sorted({u["signup_date"] for u in users})
    middle = signups[len(signups) // 2]
    for low, high in ((middle, None), (None, middle), (signups[0], signups[-1]),
                      (middle, middle), (signups[-1], signups[0]),
                      (date(1990, 1, 1), date(2100, 1, 1))):  # fmt: skip
        cases.append((
            {"signup_from": low and low.isoformat(), "signup_to": high and high.isoformat()},
            lambda u, lo=low, hi=high: (lo is None or u["signup_date"] >= lo)
            and (hi is None or u["signup_date"] < hi),
        ))  # fmt: skip
    for horizon in ("3m", "6m", "12m", "lifetime"):
        column = f"revenue_{horizon}"
        values = sorted({u[column] for u in users if u[column] > 0})
        value = values[len(values) // 3]
        for low, high in ((0, 1), (value, None), (None, value), (value, value),
                          (value, values[-1]), (values[-1] + 1, None), (-5, 0),
                          (200, 10)):  # fmt: skip
            cases.append((
                {"revenue_horizon": horizon, "revenue_min": low and str(low),
                 "revenue_max": high and str(high)},
                lambda u, c=column, lo=low, hi=high: (lo is None or u[c] >= lo)
                and (hi is None or u[c] < hi),
            ))  # fmt: skip
    for orders in (0, 1, 5, 10_000):
        cases.append(({"min_orders": orders}, lambda u, n=orders: u["orders_lifetime"] >= n))
    cases.append((
        {"segment": "Low", "revenue_horizon": "6m", "revenue_min": 10},
        lambda u: u["ltv_segment"] == "Low" and u["revenue_6m"] >= 10,
    ))  # fmt: skip
    return cases


def test_every_total_counts_the_users_its_filter_keeps(demo):
    """A total of one filter reads user_ltv_counts, of several counts user_ltv:
    both equal the users the filter keeps, at every edge of every kind."""
    users = demo.rows(f"select * from {MART_SCHEMA}.user_ltv")
    cases = total_cases(users)
    inline = "".join(
        "{% set s = fromjson('" + json.dumps({**settings, "page_size": 25}) + "') %}"
        f"\n-- @@case {i}\n"
        "{{ ltv_user_list_total(ltv_user_list_settings(s)) }}\n"
        for i, (settings, _) in enumerate(cases)
    )
    sqls = split_cases(demo.compile_inline(inline))
    assert len(sqls) == len(cases)
    assert sum("user_ltv_counts" in sql for sql in sqls) == len(cases) - 1
    wrong = []
    for (settings, keep), sql in zip(cases, sqls):
        want = sum(1 for u in users if keep(u))
        got = demo.rows(sql)
        if got != [{"total_users": want, "page_size": 25, "total_pages": -(-want // 25)}]:
            wrong.append(f"{settings}: got {got}, want {want}")
    assert not wrong, f"{len(wrong)} of {len(cases)} totals differ:\n" + "\n".join(wrong)


def test_the_analyses_take_their_vars(demo):
    """user_list_page and user_list_total as files, with vars, as an analyst calls
    them: the page is its slice, the total counts the filtered users."""
    users = demo.rows(f"select * from {MART_SCHEMA}.user_ltv")
    list_vars = {"ltv_list_segment": "Low", "ltv_list_sort": "aov_lifetime",
                 "ltv_list_direction": "asc", "ltv_list_page_size": 25,
                 "ltv_list_page": 3}  # fmt: skip
    args = [a if a != demo.args[demo.args.index("--vars") + 1] else json.dumps(
        {"ltv_as_of_date": DEMO_AS_OF, **list_vars}) for a in demo.args]
    invoke_dbt(["compile", *args, "--select", "user_list_page", "user_list_total"])
    compiled = PROJECT_DIR / demo.args[demo.args.index("--target-path") + 1]
    compiled = compiled / "compiled" / "ltv" / "analyses"
    low = [u for u in users if u["ltv_segment"] == "Low"]
    want = [u["user_id"] for u in sorted_users(low, "aov_lifetime", "asc")][50:75]
    page = demo.rows((compiled / "user_list_page.sql").read_text())
    assert [r["user_id"] for r in page] == want
    assert len(page[0]) == PAGE_COLUMNS
    total = demo.rows((compiled / "user_list_total.sql").read_text())
    assert total == [{"total_users": len(low), "page_size": 25,
                      "total_pages": -(-len(low) // 25)}]  # fmt: skip


def test_a_sort_field_outside_the_list_is_refused(demo):
    """Settings become SQL text: anything but the listed values fails to compile."""
    messages = []
    result = dbtRunner(callbacks=[lambda event: messages.append(event.info.msg)]).invoke([
        "compile", *demo.args, "--inline",
        "{{ ltv_user_list_page(ltv_user_list_settings({'sort': 'user_id; drop'})) }}",
    ])  # fmt: skip
    assert not result.success
    assert any("ltv_list_sort must be one of" in str(m) for m in messages), messages[-5:]


def test_every_analysis_returns_rows_on_the_demo_with_its_defaults(demo):
    invoke_dbt(["compile", *demo.args, "--select", "resource_type:analysis"])
    target = PROJECT_DIR / demo.args[demo.args.index("--target-path") + 1]
    analyses = sorted((target / "compiled" / "ltv" / "analyses").glob("*.sql"))
    assert len(analyses) == len(list((PROJECT_DIR / "analyses").glob("*.sql")))
    empty = [path.name for path in analyses if not demo.rows(path.read_text())]
    assert not empty, empty
