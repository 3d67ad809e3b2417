"""Hand-computed cases for the reference implementation (no database needed).

Each case is small enough to check on paper; together they cover what breaks quietly:
month-end date math, the exclusive window end, dedup, status and currency
normalization, percent_rank ties, bucket edges and empty horizons; for the analyst
marts, cohort month boundaries and censoring, channels without a CAC, same-day
purchases in RFM and the order of the exclusion reasons.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from reference import compute_marts, utc_timestamp

AS_OF = date(2026, 3, 31)


def user(user_id, signup, channel="organic"):
    return {
        "user_id": user_id,
        "created_at": datetime.combine(signup, datetime.min.time()),
        "acquisition_channel": channel,
    }


def order(
    order_id,
    user_id,
    day,
    amount,
    status="paid",
    currency="USD",
    updated_at=None,
):
    return {
        "order_id": order_id,
        "user_id": user_id,
        "created_at": datetime.combine(day, datetime.min.time()) if day else None,
        "updated_at": updated_at,
        "status": status,
        "total_amount": None if amount is None else Decimal(str(amount)),
        "currency": currency,
    }


def marts(users, orders, fx_rates=(), as_of=AS_OF, **options):
    return compute_marts(list(users), list(orders), list(fx_rates), as_of, **options)


def only_user(result):
    (row,) = result["user_ltv"]
    return row


def by_key(rows, *keys):
    """Rows keyed by one column's value, or by a tuple of several columns' values."""
    if len(keys) == 1:
        return {row[keys[0]]: row for row in rows}
    return {tuple(row[key] for key in keys): row for row in rows}


def test_month_end_signup_clamps_horizon_end():
    # Jan 31 + 3 months = Apr 30 (2025): Apr 29 is in the 3m window, Apr 30 is not.
    result = marts(
        [user(1, date(2025, 1, 31))],
        [order(1, 1, date(2025, 4, 29), 10), order(2, 1, date(2025, 4, 30), 20)],
    )
    row = only_user(result)
    assert row["revenue_3m"] == Decimal(10)
    assert row["revenue_6m"] == Decimal(30)


def test_leap_year_month_end():
    # Nov 30 2023 + 3 months = Feb 29 2024 (clamped from "Feb 30"): Feb 28 is inside.
    result = marts(
        [user(1, date(2023, 11, 30))],
        [order(1, 1, date(2024, 2, 28), 5), order(2, 1, date(2024, 2, 29), 7)],
    )
    assert only_user(result)["revenue_3m"] == 5


def test_exclusive_window_end_and_completeness_boundary():
    # signup + 3 months = as_of: 3m complete exactly on the as-of date.
    signup = date(2025, 12, 31)
    result = marts([user(1, signup)], [order(1, 1, date(2026, 3, 30), 7)])
    row = only_user(result)
    assert row["is_3m_complete"] is True  # Mar 31 <= Mar 31
    assert row["is_6m_complete"] is False
    assert row["revenue_3m"] == 7  # Mar 30 < Mar 31


def test_orders_on_or_after_as_of_and_pre_signup_orders():
    result = marts(
        [user(1, date(2025, 6, 15))],
        [
            order(1, 1, date(2025, 1, 1), 100),  # before signup: counts everywhere
            order(2, 1, AS_OF, 1000),  # on the as-of date: not observed yet
        ],
    )
    row = only_user(result)
    assert row["revenue_3m"] == row["revenue_lifetime"] == 100
    assert row["first_order_date"] == date(2025, 1, 1)
    assert row["days_since_last_order"] == (AS_OF - date(2025, 1, 1)).days
    assert row["tenure_days"] == (AS_OF - date(2025, 6, 15)).days


def test_users_signing_up_on_as_of_are_left_out_with_their_orders():
    result = marts(
        [user(1, date(2025, 1, 1)), user(2, AS_OF)],
        [order(1, 2, date(2025, 5, 1), 50)],
    )
    assert [row["user_id"] for row in result["user_ltv"]] == [1]
    assert by_key(result["ltv_summary"], "horizon")["lifetime"]["total_revenue"] == 0


def test_dedup_keeps_latest_version_and_collapses_exact_duplicates():
    first = order(1, 1, date(2025, 3, 1), 10, status="pending")
    later = order(1, 1, date(2025, 3, 1), 12, updated_at=datetime(2025, 3, 2))
    undated = order(1, 1, None, 99)  # no timestamps at all: never the latest
    duplicate = order(2, 1, date(2025, 3, 5), 5)
    result = marts(
        [user(1, date(2025, 1, 1))], [first, undated, later, duplicate, dict(duplicate)]
    )
    row = only_user(result)
    assert row["orders_lifetime"] == 2
    assert row["revenue_lifetime"] == 17


def test_dedup_refuses_ambiguous_ties():
    a = order(1, 1, date(2025, 3, 1), 10)
    b = order(1, 1, date(2025, 3, 1), 11)
    with pytest.raises(ValueError, match="tie"):
        marts([user(1, date(2025, 1, 1))], [a, b])


def test_status_and_currency_normalization_with_monthly_fx():
    fx = [
        {"currency": "EUR", "rate_month": month, "usd_per_unit": Decimal(rate)}
        for month, rate in ((date(2025, 3, 1), "1.1"), (date(2025, 4, 1), "1.2"))
    ]
    result = marts(
        [user(1, date(2025, 1, 1))],
        [
            order(1, 1, date(2025, 3, 31), 10, status=" Paid", currency=" eur"),
            order(2, 1, date(2025, 4, 1), 10, status="SHIPPED ", currency="EUR"),
            order(3, 1, date(2025, 4, 2), 10, status="completed", currency=None),
            order(4, 1, date(2025, 4, 3), 10, status="refunded"),
            order(5, 1, date(2025, 4, 4), 10, status=None),
        ],
        fx,
    )
    row = only_user(result)
    assert row["orders_lifetime"] == 3
    assert row["revenue_lifetime"] == Decimal("11.0") + Decimal("12.0") + 10


def test_missing_fx_rate_is_an_error():
    with pytest.raises(ValueError, match="GBP"):
        marts(
            [user(1, date(2025, 1, 1))],
            [order(1, 1, date(2025, 2, 1), 10, currency="GBP")],
        )


def test_invalid_orders_are_left_out():
    result = marts(
        [user(1, date(2025, 1, 1))],
        [
            order(1, None, date(2025, 2, 1), 10),  # no user
            order(2, 1, None, 10),  # no date
            order(3, 1, date(2025, 2, 1), None),  # no amount
            order(4, 1, date(2025, 2, 1), -5),  # negative amount
            order(5, 9, date(2025, 2, 1), 10),  # unknown user
            order(6, 1, date(2025, 2, 1), 0),  # zero is a valid order
        ],
    )
    row = only_user(result)
    assert (row["orders_lifetime"], row["revenue_lifetime"]) == (1, 0)
    assert row["aov_lifetime"] == 0


def test_channels_compare_as_lower_trim():
    users = [
        user(1, date(2025, 1, 1), channel="Organic "),
        user(2, date(2025, 1, 1), channel="organic"),
        user(3, date(2025, 1, 1), channel="  "),
    ]
    rows = marts(users, [])["user_ltv"]
    assert [row["acquisition_channel"] for row in rows] == ["organic", "organic", "unknown"]


def test_user_without_orders():
    row = only_user(marts([user(1, date(2025, 1, 1), channel=None)], []))
    assert row["acquisition_channel"] == "unknown"
    assert (row["revenue_12m"], row["orders_12m"], row["aov_12m"]) == (0, 0, None)
    assert row["first_order_date"] is row["days_since_last_order"] is None


def test_percent_rank_ties_share_a_segment():
    # Five mature users with revenue 0, 10, 10, 10, 40 and one New user.
    # percent_rank: 0 -> 0, 10 -> 1/4, 40 -> 1. Cut-offs 0.95/0.75/0.25.
    signup = date(2024, 1, 1)
    revenues = {1: 0, 2: 10, 3: 10, 4: 10, 5: 40}
    users = [user(uid, signup) for uid in revenues] + [user(6, date(2026, 2, 1))]
    orders = [
        order(uid, uid, date(2024, 2, 1), amount)
        for uid, amount in revenues.items()
        if amount
    ] + [order(6, 6, date(2026, 2, 2), 1000)]
    segments = {
        row["user_id"]: row["ltv_segment"] for row in marts(users, orders)["user_ltv"]
    }
    assert segments == {
        1: "Low", 2: "Medium", 3: "Medium", 4: "Medium", 5: "VIP", 6: "New"
    }


def test_single_mature_user_has_percent_rank_zero():
    result = marts([user(1, date(2024, 1, 1))], [order(1, 1, date(2024, 1, 2), 9)])
    row = only_user(result)
    assert row["ltv_segment"] == "Low"


def test_bucket_edges():
    signup = date(2024, 1, 1)
    amounts = [0, Decimal("0.01"), Decimal("49.99"), 50, 4999, 5000]
    users = [user(uid, signup) for uid in range(1, len(amounts) + 1)]
    orders = [
        order(uid, uid, date(2024, 1, 2), amount)
        for uid, amount in enumerate(amounts, start=1)
    ]
    grid = by_key(marts(users, orders)["ltv_distribution"], "horizon", "bucket_order")
    lifetime = {order_: grid[("lifetime", order_)] for order_ in range(9)}
    assert [lifetime[i]["users"] for i in range(9)] == [1, 2, 1, 0, 0, 0, 0, 1, 1]
    assert lifetime[0]["bucket_label"] == "$0"
    assert lifetime[1]["bucket_label"] == "$0-$50"
    assert lifetime[7]["bucket_label"] == "$2500-$5000"
    assert lifetime[8]["bucket_label"] == "$5000+"
    assert (lifetime[0]["lower_bound"], lifetime[0]["upper_bound"]) == (0, 0)
    assert (lifetime[8]["lower_bound"], lifetime[8]["upper_bound"]) == (5000, None)
    assert lifetime[1]["share_of_users"] == Decimal(2) / 6
    total = sum(Decimal(amount) for amount in amounts)
    assert lifetime[8]["share_of_revenue"] == Decimal(5000) / total


def test_empty_horizon_keeps_its_rows():
    # One user signed up 2 months ago: only lifetime has eligible users.
    result = marts([user(1, date(2026, 1, 15))], [order(1, 1, date(2026, 1, 20), 30)])
    summary = by_key(result["ltv_summary"], "horizon")
    assert list(summary) == ["3m", "6m", "12m", "lifetime"]
    empty = summary["12m"]
    counts = ("eligible_users", "active_users", "total_orders")
    assert [empty[column] for column in counts] == [0, 0, 0]
    assert empty["total_revenue"] == 0
    for column in ("active_share", "ltv_mean", "ltv_median", "ltv_p95", "aov",
                   "orders_per_user", "recommended_max_cac"):
        assert empty[column] is None
    assert summary["lifetime"]["recommended_max_cac"] == Decimal(10)
    grid = [row for row in result["ltv_distribution"] if row["horizon"] == "12m"]
    assert len(grid) == 9
    assert all(row["users"] == 0 and row["share_of_users"] is None for row in grid)
    segments = by_key(result["ltv_segments"], "ltv_segment")
    assert list(segments) == ["VIP", "High", "Medium", "Low", "New"]
    assert segments["VIP"]["users"] == 0
    assert segments["VIP"]["ltv_mean_lifetime"] is None
    assert segments["New"]["share_of_revenue"] == 1


def test_percentiles_are_continuous_and_include_zeros():
    signup = date(2024, 1, 1)
    users = [user(uid, signup) for uid in range(1, 5)]
    orders = [order(1, 1, date(2024, 1, 2), 10), order(2, 2, date(2024, 1, 2), 30)]
    lifetime = by_key(marts(users, orders)["ltv_summary"], "horizon")["lifetime"]
    # Sorted revenues 0, 0, 10, 30.
    assert lifetime["ltv_median"] == 5  # halfway between 0 and 10
    assert lifetime["ltv_p95"] == Decimal("10") + Decimal("0.85") * 20  # position 2.85
    assert lifetime["ltv_mean"] == 10
    assert lifetime["active_share"] == Decimal("0.5")
    assert lifetime["aov"] == 20


# --------------------------------------------------------------------- analyst marts


def at(day, hour, minute=0):
    return datetime.combine(day, datetime.min.time()).replace(hour=hour, minute=minute)


def test_cohort_months_of_a_jan_31_signup():
    # Months of life from Jan 31 2025: [.., Feb 28), [Feb 28, Mar 31), [Mar 31, Apr 30),
    # [Apr 30, May 31): each end is Jan 31 + k months, not the previous end + 1 month.
    amounts = {
        date(2025, 1, 20): 1,  # before signup: month 0
        date(2025, 2, 27): 2,  # month 0
        date(2025, 2, 28): 4,  # month 1 starts on Feb 28
        date(2025, 3, 30): 8,  # month 1
        date(2025, 3, 31): 16,  # month 2 starts on Mar 31 (not Mar 28)
        date(2025, 4, 30): 32,  # month 3 starts on Apr 30
    }
    users = [user(1, date(2025, 1, 31)), user(2, date(2025, 1, 1))]  # 2 never orders
    orders = [
        order(order_id, 1, day, amount)
        for order_id, (day, amount) in enumerate(amounts.items(), start=1)
    ]
    result = marts(users, orders)
    cohort = by_key(result["ltv_cohorts"], "months_since_signup")
    # Jan 31 2025 + 14 months = Mar 31 2026 <= as_of; + 15 months = Apr 30 2026 is not.
    assert list(cohort) == list(range(14))
    assert {row["signup_month"] for row in cohort.values()} == {date(2025, 1, 1)}
    assert [cohort[m]["revenue_in_month"] for m in range(5)] == [3, 12, 16, 32, 0]
    assert [cohort[m]["revenue_cumulative"] for m in range(5)] == [3, 15, 31, 63, 63]
    assert [cohort[m]["active_users"] for m in range(5)] == [1, 1, 1, 1, 0]
    assert cohort[0]["cohort_users"] == 2
    assert cohort[0]["active_share"] == Decimal("0.5")
    assert cohort[13]["revenue_cumulative"] == 63
    # At m = 2 the curve is the cohort's mean revenue_3m (Jan 31 + 3 months = Apr 30).
    revenue_3m = [row["revenue_3m"] for row in result["user_ltv"]]
    assert cohort[2]["ltv_cumulative"] == sum(revenue_3m) / 2 == Decimal("15.5")


def test_cohort_rows_wait_for_the_last_signup_of_the_month():
    users = [
        user(1, date(2026, 2, 1)),
        user(2, date(2026, 2, 28)),  # Feb 28 + 1 month = Mar 28 <= Mar 31: m = 0 only
        user(3, date(2026, 3, 1)),  # Mar 1 + 1 month = Apr 1 > Mar 31: no row yet
    ]
    orders = [order(1, 1, date(2026, 3, 20), 10), order(2, 3, date(2026, 3, 2), 5)]
    rows = marts(users, orders)["ltv_cohorts"]
    assert [(row["signup_month"], row["months_since_signup"]) for row in rows] == [
        (date(2026, 2, 1), 0)
    ]
    # User 1's month 0 ends on Mar 1: the Mar 20 order is in its month 1, not shown.
    assert rows[0]["revenue_in_month"] == 0
    assert rows[0]["active_users"] == 0


def test_channel_without_cac_and_empty_horizons():
    users = [
        user(1, date(2025, 12, 1), channel="email"),  # 3m complete, 6m not
        user(2, date(2026, 3, 1), channel="email"),  # no horizon complete
        user(3, date(2024, 1, 1), channel="organic"),  # no CAC in the seed
        user(4, date(2024, 1, 1), channel=None),
    ]
    orders = [order(1, 1, date(2025, 12, 5), 19), order(2, 3, date(2024, 2, 1), 30)]
    channel_cac = [{"acquisition_channel": "email", "cac": Decimal("9.50")}]
    rows = marts(users, orders, channel_cac=channel_cac)["ltv_by_channel"]
    grid = by_key(rows, "acquisition_channel", "horizon")
    assert len(rows) == 12  # email, organic, unknown: four horizons each
    email_3m, email_6m = grid[("email", "3m")], grid[("email", "6m")]
    assert (email_3m["eligible_users"], email_3m["ltv_mean"]) == (1, 19)
    assert email_3m["cac"] == Decimal("9.50")
    assert email_3m["ltv_to_cac"] == 2
    assert email_3m["recommended_max_cac"] == Decimal(19) / 3
    assert grid[("email", "lifetime")]["ltv_to_cac"] == 1  # mean (19 + 0) / 2 = 9.50
    assert email_6m["eligible_users"] == 0 and email_6m["cac"] == Decimal("9.50")
    assert email_6m["ltv_mean"] is email_6m["ltv_to_cac"] is None
    organic = grid[("organic", "12m")]
    assert (organic["ltv_mean"], organic["ltv_median"]) == (30, 30)
    assert organic["cac"] is organic["ltv_to_cac"] is None
    assert organic["recommended_max_cac"] == 10
    unknown = grid[("unknown", "lifetime")]
    assert (unknown["eligible_users"], unknown["active_users"]) == (1, 0)
    assert unknown["active_share"] == 0 and unknown["cac"] is None


def test_rfm_merges_same_day_purchases():
    first, repeat, last = date(2025, 2, 1), date(2025, 3, 1), date(2025, 3, 11)
    orders = [
        {**order(1, 1, first, 10), "created_at": at(first, 0)},
        {**order(2, 1, first, 5), "created_at": at(first, 23, 59)},
        {**order(3, 1, repeat, 20), "created_at": at(repeat, 9)},
        {**order(4, 1, repeat, 30), "created_at": at(repeat, 17)},
        order(5, 1, repeat, 1000, status="cancelled"),  # no revenue order
        order(6, 1, last, 7),
        order(7, 1, AS_OF, 99),  # not observed yet
        {**order(8, 2, last, 4), "created_at": at(last, 8)},  # one day, two orders
        {**order(9, 2, last, 6), "created_at": at(last, 20)},
    ]
    users = [user(uid, date(2025, 1, 1)) for uid in (1, 2, 3)]  # 3 never orders
    rfm = by_key(marts(users, orders)["user_rfm"], "user_id")
    observation_end = AS_OF - timedelta(days=1)
    assert list(rfm) == [1, 2]
    assert rfm[1]["frequency"] == 2  # three purchase days
    assert rfm[1]["recency"] == (last - first).days == 38
    assert rfm[1]["t"] == (observation_end - first).days
    assert rfm[1]["monetary_value"] == Decimal("28.5")  # (20 + 30 + 7) / 2
    assert (rfm[2]["frequency"], rfm[2]["recency"]) == (0, 0)
    assert rfm[2]["monetary_value"] == 0
    assert rfm[2]["t"] == (observation_end - last).days


def test_order_audit_reasons_and_amounts():
    fx = [
        {"currency": "EUR", "rate_month": date(2025, 3, 1), "usd_per_unit": Decimal(2)}
    ]
    users = [
        user(1, date(2025, 1, 1)),
        {"user_id": 2, "created_at": None, "acquisition_channel": None},
        user(3, AS_OF),  # signs up on the as-of date
    ]
    day = date(2025, 3, 10)
    orders = [
        order(1, None, None, None),  # everything missing: the first check wins
        order(2, 1, None, -5),
        order(3, 1, day, None),
        order(4, 9, day, -5),  # negative before unknown user
        order(5, 9, day, 10),
        order(6, 2, AS_OF, 10),  # no signup date before the as-of date check
        order(7, 3, AS_OF, 10),  # ordered on as_of before the late signup check
        order(8, 3, day, 10),
        order(9, 1, day, 10, status=" Refunded "),
        order(10, 1, day, 10, status=None),
        order(11, 1, day, 10, status="PAID", currency=" eur"),
        order(12, 1, day, 10, currency=""),
        order(13, 1, date(2025, 4, 1), 10, status="pending", currency="EUR"),
    ]
    orders.append(dict(orders[-1]))  # an exact duplicate of order 13
    audit = by_key(marts(users, orders, fx)["order_audit"], "order_id")
    assert [audit[i]["exclusion_reason"] for i in range(1, 11)] == [
        "missing_user_id",
        "missing_order_date",
        "missing_amount",
        "negative_amount",
        "unknown_user",
        "user_without_signup_date",
        "ordered_on_or_after_as_of_date",
        "user_signed_up_on_or_after_as_of_date",
        "non_revenue_status",  # refunded
        "non_revenue_status",  # null status
    ]
    assert audit[9]["order_status"] == "refunded"
    assert audit[10]["order_status"] is None
    paid_eur, empty_currency = audit[11], audit[12]
    assert paid_eur["is_revenue"] and paid_eur["exclusion_reason"] is None
    assert (paid_eur["order_status"], paid_eur["currency_code"]) == ("paid", "EUR")
    assert (paid_eur["order_amount"], paid_eur["amount_usd"]) == (10, 20)
    assert empty_currency["currency_code"] == "USD"
    assert empty_currency["amount_usd"] == 10
    assert audit[2]["amount_usd"] == -5  # USD needs no rate, not even a date
    assert audit[3]["amount_usd"] is None  # no amount
    # No EUR rate for April: fine for an order that earns no revenue.
    assert audit[13]["amount_usd"] is None and audit[13]["source_row_count"] == 2
    assert all(audit[i]["source_row_count"] == 1 for i in range(1, 13))
    assert audit[1]["order_date"] is None and audit[8]["order_date"] == day
    assert {row["as_of_date"] for row in audit.values()} == {AS_OF}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Seven and nine fractional digits: truncated, never rounded into the next day.
        ("2026-06-30T23:59:59.9999999", datetime(2026, 6, 30, 23, 59, 59, 999999)),
        ("2026-06-30 23:59:59.999999999Z", datetime(2026, 6, 30, 23, 59, 59, 999999)),
        # A space before the offset, lower-case z, an offset without a colon.
        ("2025-05-05 22:00:00 +01", datetime(2025, 5, 5, 21)),
        ("2025-05-05 22:00:00z", datetime(2025, 5, 5, 22)),
        ("2025-05-05T22:00:00 -05:30", datetime(2025, 5, 6, 3, 30)),
        ("2025-05-05 22:00:00+0530", datetime(2025, 5, 5, 16, 30)),
        ("2025-05-05", datetime(2025, 5, 5)),
    ],
)
def test_text_stamps_are_read_as_utc(text, expected):
    created_at = {"user_id": 1, "created_at": text, "acquisition_channel": "x"}
    result = marts([created_at], [], as_of=date(2027, 1, 1))
    assert only_user(result)["signup_date"] == expected.date()
    assert utc_timestamp(text) == expected
