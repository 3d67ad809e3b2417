"""The user list and one user, on DuckDB and PostgreSQL, against the marts in Python.

Moved here from the list's dbt macros (tests/python/test_user_list.py): page n of a
sort is the n-th slice of the whole list sorted in Python (nulls largest, ties by
user_id ascending), for every user_ltv column both ways, with and without filters;
every total counts the users its filters keep, at every edge of every filter.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from serve.app.queries import USER_CLV_COLUMNS, USER_LTV_COLUMNS

USERS = "/api/v1/ltv/users"


def sorted_ids(users: list, column: str, descending: bool) -> list:
    """Nulls as the largest value, ties by user_id ascending."""
    present = sorted((u for u in users if u[column] is not None),
                     key=lambda u: (u[column], -u["user_id"] if descending else u["user_id"]),
                     reverse=descending)  # fmt: skip
    absent = sorted(u["user_id"] for u in users if u[column] is None)
    ids = [u["user_id"] for u in present]
    return absent + ids if descending else ids + absent


def page_ids(client, **params) -> tuple[int, list]:
    response = client.get(USERS, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["page"] == params.get("page", 1)
    assert body["page_size"] == params.get("page_size", 50)
    return body["total"], [item["user_id"] for item in body["items"]]


def test_the_contract_is_the_whitelist(demo, users):
    """Sorting accepts exactly the columns of user_ltv, in the contract's order."""
    assert tuple(users[0]) == USER_LTV_COLUMNS


def test_every_column_sorts_both_ways_page_by_page(client, users):
    """First, second and last page (and one past it) of every sort, both ways."""
    wrong = []
    for column in USER_LTV_COLUMNS:
        for order in ("asc", "desc"):
            want = sorted_ids(users, column, order == "desc")
            last = -(-len(want) // 100)
            for page in (1, 2, last, last + 1):
                total, got = page_ids(client, sort_by=column, sort_order=order,
                                      page=page, page_size=100)  # fmt: skip
                assert total == len(users)
                if got != want[(page - 1) * 100 : page * 100]:
                    wrong.append(f"{column} {order} page {page}")
    assert not wrong, wrong


def test_the_default_is_lifetime_revenue_descending_50_a_page(client, users):
    total, got = page_ids(client)
    assert (total, got) == (len(users), sorted_ids(users, "revenue_lifetime", True)[:50])


def filter_cases(users: list) -> list:
    """(parameters, the same filter in Python): every filter at its edges (values that
    exist, bounds on a value, empty and reversed ranges, past the ends), and several
    together."""
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
        params = {key: value.isoformat() for key, value
                  in (("signup_from", low), ("signup_to", high)) if value}  # fmt: skip
        cases.append((params,
                      lambda u, lo=low, hi=high: (lo is None or u["signup_date"] >= lo)
                      and (hi is None or u["signup_date"] <= hi)))  # fmt: skip
    for horizon in ("3m", "6m", "12m", "lifetime"):
        column = f"revenue_{horizon}"
        values = sorted({u[column] for u in users if u[column] > 0})
        value = values[len(values) // 3]
        for low, high in ((0, 0), (0, 1), (value, None), (None, value), (value, value),
                          (value, values[-1]), (values[-1] + 1, None), (-5, 0),
                          (200, 10)):  # fmt: skip
            params = {"revenue_horizon": horizon}
            params.update({key: str(bound) for key, bound
                           in (("min_revenue", low), ("max_revenue", high))
                           if bound is not None})  # fmt: skip
            cases.append((params,
                          lambda u, c=column, lo=low, hi=high:
                          (lo is None or u[c] >= Decimal(lo))
                          and (hi is None or u[c] <= Decimal(hi))))  # fmt: skip
    for orders in (0, 1, 5, 10_000):
        cases.append(({"min_orders": orders}, lambda u, n=orders: u["orders_lifetime"] >= n))
    first, last = signups[0], signups[-1]
    cases.append((
        {"segment": "Low", "channel": "organic", "revenue_horizon": "6m",
         "min_revenue": "10", "max_revenue": "500", "min_orders": 2,
         "signup_from": (first + timedelta(days=200)).isoformat(),
         "signup_to": (last - timedelta(days=200)).isoformat()},
        lambda u: u["ltv_segment"] == "Low" and u["acquisition_channel"] == "organic"
        and Decimal(10) <= u["revenue_6m"] <= Decimal(500) and u["orders_lifetime"] >= 2
        and first + timedelta(days=200) <= u["signup_date"] <= last - timedelta(days=200),
    ))  # fmt: skip
    return cases


def test_every_filter_keeps_its_users_and_counts_them(client, users):
    """The total is the count in Python; the first page and the last are their
    slices of the filtered list (sorted by revenue_6m ascending: a column the
    filters do not decide)."""
    wrong = []
    for params, keep in filter_cases(users):
        kept = [u for u in users if keep(u)]
        want = sorted_ids(kept, "revenue_6m", False)
        last = max(1, -(-len(want) // 25))
        for page in (1, last):
            total, got = page_ids(client, **params, sort_by="revenue_6m",
                                  sort_order="asc", page=page, page_size=25)  # fmt: skip
            if (total, got) != (len(kept), want[(page - 1) * 25 : page * 25]):
                wrong.append(f"{params} page {page}: {total} users, want {len(kept)}")
    assert not wrong, "\n".join(wrong)


def test_the_demo_has_what_the_filters_need(users):
    """Ties, nulls and users without an order make the sorts' and filters' edges real."""
    assert len({u["revenue_lifetime"] for u in users}) < len(users)
    assert any(u["aov_lifetime"] is None for u in users)
    assert {u["ltv_segment"] for u in users} == {"VIP", "High", "Medium", "Low", "New"}


@pytest.mark.parametrize(
    "parameter, value",
    [
        ("segment", "Gold"), ("revenue_horizon", "24m"), ("min_revenue", "ten"),
        ("max_revenue", "1,5"), ("min_orders", "-1"), ("min_orders", "two"),
        ("signup_from", "2024-02-30"), ("signup_to", "yesterday"),
        ("sort_by", "user_id; drop table user_ltv"), ("sort_by", "predicted_clv_12m"),
        ("sort_order", "up"), ("page", "0"), ("page", "x"), ("page_size", "10"),
        ("page_size", "1000"),
    ],
)  # fmt: skip
def test_a_bad_parameter_is_a_422_naming_it(client, parameter, value):
    response = client.get(USERS, params={parameter: value})
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [["query", parameter]]


def test_one_user_carries_its_clv_when_scored(client, demo, users):
    clv = {row["user_id"]: row for row in demo.mart("user_clv")}
    scored = next(u for u in users if u["user_id"] in clv)
    unscored = next(u for u in users if u["user_id"] not in clv)
    body = client.get(f"{USERS}/{scored['user_id']}").json()
    assert body["is_scored"] is True
    assert {c: body[c] for c in USER_LTV_COLUMNS} == client_row(scored)
    for column in USER_CLV_COLUMNS:
        assert body[column] == pytest.approx(clv[scored["user_id"]][column], rel=1e-12)
    body = client.get(f"{USERS}/{unscored['user_id']}").json()
    assert body["is_scored"] is False
    assert all(body[column] is None for column in USER_CLV_COLUMNS)
    assert {c: body[c] for c in USER_LTV_COLUMNS} == client_row(unscored)


def client_row(user: dict) -> dict:
    """A user_ltv row as JSON carries it: dates in ISO, money as numbers."""
    return {
        column: value.isoformat() if isinstance(value, date)
        else float(value) if isinstance(value, Decimal) else value
        for column, value in user.items()
    }  # fmt: skip


def test_an_unknown_user_is_a_404_and_a_bad_id_a_422(client, users):
    unknown = max(u["user_id"] for u in users) + 1
    assert client.get(f"{USERS}/{unknown}").status_code == 404
    response = client.get(f"{USERS}/abc")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "user_id"]


def test_list_rows_are_user_ltv_rows(client, users):
    by_id = {u["user_id"]: u for u in users}
    items = client.get(USERS, params={"page_size": 100}).json()["items"]
    assert [item for item in items] == [client_row(by_id[i["user_id"]]) for i in items]
