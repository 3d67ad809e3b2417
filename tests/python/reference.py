"""Independent pure-Python implementation of the LTV marts defined in LTV_SPEC.md.

The test suite builds the dbt project on each engine and compares every mart row with
what this module computes from the same raw rows. It deliberately shares nothing with
the SQL models: it is written from the spec, with plain Python, ``decimal`` for money
and ``dateutil.relativedelta`` for month arithmetic (which clamps at month ends the way
the warehouses do: Jan 31 + 1 month = Feb 28/29).

Conventions of the returned rows (the project's column conventions):
- money and ratios are ``Decimal`` (never rounded), counts and day spans ``int``;
- ``percent_rank`` is computed as a float, like the SQL window function;
- statistics over an empty set are ``None``, sums over an empty set are ``0``.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Iterable, Optional

from dateutil.relativedelta import relativedelta

REPORTING_CURRENCY = "USD"
HORIZONS = (("3m", 3), ("6m", 6), ("12m", 12), ("lifetime", None))
SEGMENTS = ("VIP", "High", "Medium", "Low", "New")  # in segment_order 1..5
ZERO = Decimal(0)


@dataclass(frozen=True)
class User:
    user_id: int
    signup_date: date
    acquisition_channel: Optional[str]


@dataclass(frozen=True)
class RevenueOrder:
    """A valid order with a revenue status, its amount converted to USD."""

    user_id: int
    order_date: date
    amount_usd: Decimal


# --------------------------------------------------------------------------- inputs


def to_date(value: Optional[datetime | date]) -> Optional[date]:
    """UTC calendar date of a timestamp (``cast(x as date)``); None stays None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    return value


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """Calendar month arithmetic, clamped to the last day of the target month."""
    return day + relativedelta(months=months)


def load_users(users: Iterable[dict], as_of_date: date) -> dict[int, User]:
    """Users who signed up before the as-of date, keyed by user_id.

    A user without a signup timestamp never satisfies ``signup_date < as_of_date``
    and is left out like a user who signs up later.
    """
    loaded: dict[int, User] = {}
    for row in users:
        user_id = row["user_id"]
        if user_id in loaded:
            raise ValueError(f"duplicate user_id {user_id} in users")
        signup_date = to_date(row["created_at"])
        if signup_date is None or signup_date >= as_of_date:
            continue
        loaded[user_id] = User(user_id, signup_date, row["acquisition_channel"])
    return loaded


def latest_version_key(order: dict) -> Optional[datetime]:
    """The timestamp that decides which row of an order_id is the latest."""
    if order["updated_at"] is not None:
        return order["updated_at"]
    return order["created_at"]


def deduplicate_orders(orders: Iterable[dict]) -> list[dict]:
    """One row per order_id: the row with the latest coalesce(updated_at, created_at).

    A row whose timestamps are both null is older than any dated row. Exact duplicates
    collapse. Two *different* rows sharing the latest timestamp are a tie the spec does
    not resolve (the project breaks it deterministically, but any choice is a guess), so
    the test data must not contain one: this raises instead of guessing. Rows without
    an order_id have no identity to deduplicate on and are not orders.
    """
    latest: dict[int, dict] = {}
    for order in orders:
        order_id = order["order_id"]
        if order_id is None:
            continue
        kept = latest.get(order_id)
        if kept is None or _is_newer(order, kept):
            latest[order_id] = order
        elif _is_tie(order, kept) and order != kept:
            raise ValueError(f"order_id {order_id}: two different rows tie as latest")
    return list(latest.values())


def _is_newer(order: dict, kept: dict) -> bool:
    new_key, kept_key = latest_version_key(order), latest_version_key(kept)
    if new_key is None:
        return False
    return kept_key is None or new_key > kept_key


def _is_tie(order: dict, kept: dict) -> bool:
    # Undated rows are never counted (null created_at), so their ties do not matter.
    key = latest_version_key(order)
    return key is not None and key == latest_version_key(kept)


def normalize_status(status: Optional[str]) -> Optional[str]:
    return status.strip().lower() if status is not None else None


def normalize_currency(currency: Optional[str]) -> str:
    return currency.strip().upper() if currency is not None else REPORTING_CURRENCY


def is_valid_order(order: dict, users: dict[int, User], as_of_date: date) -> bool:
    """Whether a deduplicated order is counted (the spec's list of left-out cases)."""
    order_date = to_date(order["created_at"])
    amount = order["total_amount"]
    return (
        order["user_id"] is not None
        and order["user_id"] in users
        and order_date is not None
        and order_date < as_of_date
        and amount is not None
        and amount >= 0
    )


def fx_rate_lookup(fx_rates: Iterable[dict]) -> dict[tuple[str, date], Decimal]:
    """USD per unit keyed by (currency, first day of month)."""
    return {
        (normalize_currency(rate["currency"]), rate["rate_month"]): Decimal(
            rate["usd_per_unit"]
        )
        for rate in fx_rates
    }


def amount_in_usd(
    amount: Decimal, currency: str, order_date: date, rates: dict
) -> Decimal:
    """Convert with the rate of the order's month; a missing rate is an error."""
    if currency == REPORTING_CURRENCY:
        return amount
    key = (currency, month_start(order_date))
    if key not in rates:
        raise ValueError(f"no fx rate for {currency} in {key[1]:%Y-%m}")
    return amount * rates[key]


def revenue_orders(
    orders: Iterable[dict],
    users: dict[int, User],
    fx_rates: Iterable[dict],
    as_of_date: date,
    revenue_statuses: Iterable[str],
) -> list[RevenueOrder]:
    """Deduplicated, valid orders with a revenue status, in USD."""
    rates = fx_rate_lookup(fx_rates)
    statuses = set(revenue_statuses)
    counted = []
    for order in deduplicate_orders(orders):
        if not is_valid_order(order, users, as_of_date):
            continue
        if normalize_status(order["status"]) not in statuses:
            continue
        order_date = to_date(order["created_at"])
        currency = normalize_currency(order["currency"])
        amount = amount_in_usd(order["total_amount"], currency, order_date, rates)
        counted.append(RevenueOrder(order["user_id"], order_date, amount))
    return counted


# -------------------------------------------------------------------------- user_ltv


def horizon_end(signup_date: date, months: Optional[int]) -> Optional[date]:
    """Exclusive end of the horizon window; None for lifetime (no end)."""
    return None if months is None else add_months(signup_date, months)


def is_horizon_complete(signup_date: date, months: Optional[int], as_of: date) -> bool:
    return months is None or add_months(signup_date, months) <= as_of


def divide(numerator, denominator) -> Optional[Decimal]:
    """numerator / denominator as Decimal, None when the denominator is zero."""
    if not denominator:
        return None
    return Decimal(numerator) / Decimal(denominator)


def _orders_before(orders: list[RevenueOrder], end: Optional[date]) -> list:
    """The orders dated before an exclusive window end (all of them when None)."""
    return [o for o in orders if end is None or o.order_date < end]


def user_ltv_row(user: User, orders: list[RevenueOrder], as_of_date: date) -> dict:
    """The user_ltv row of one user, without its segment."""
    row = {
        "user_id": user.user_id,
        "signup_date": user.signup_date,
        "signup_month": month_start(user.signup_date),
        "acquisition_channel": (
            "unknown" if user.acquisition_channel is None else user.acquisition_channel
        ),
        "as_of_date": as_of_date,
        "tenure_days": (as_of_date - user.signup_date).days,
    }
    windows = {
        horizon: _orders_before(orders, horizon_end(user.signup_date, months))
        for horizon, months in HORIZONS
    }
    for horizon, window in windows.items():
        row[f"revenue_{horizon}"] = sum((o.amount_usd for o in window), ZERO)
    for horizon, window in windows.items():
        row[f"orders_{horizon}"] = len(window)
    for horizon, window in windows.items():
        row[f"aov_{horizon}"] = divide(row[f"revenue_{horizon}"], len(window))
    for horizon, months in HORIZONS[:-1]:
        row[f"is_{horizon}_complete"] = is_horizon_complete(
            user.signup_date, months, as_of_date
        )
    order_dates = [o.order_date for o in orders]
    row["first_order_date"] = min(order_dates, default=None)
    row["last_order_date"] = max(order_dates, default=None)
    row["days_since_last_order"] = (
        (as_of_date - row["last_order_date"]).days if order_dates else None
    )
    return row


def percent_ranks(values: list[Decimal]) -> list[float]:
    """percent_rank() ascending: (rank - 1) / (n - 1), ties share the lowest rank."""
    if len(values) <= 1:
        return [0.0] * len(values)
    ordered = sorted(values)
    return [bisect.bisect_left(ordered, v) / (len(values) - 1) for v in values]


def segment_for(rank: float, cutoffs: tuple[float, float, float]) -> str:
    vip, high, medium = cutoffs
    if rank >= vip:
        return "VIP"
    if rank >= high:
        return "High"
    if rank >= medium:
        return "Medium"
    return "Low"


def assign_segments(rows: list[dict], cutoffs: tuple[float, float, float]) -> None:
    """Set ltv_segment: 'New' until 3m is complete, else by lifetime percent_rank."""
    ranked = [row for row in rows if row["is_3m_complete"]]
    ranks = percent_ranks([row["revenue_lifetime"] for row in ranked])
    for row, rank in zip(ranked, ranks):
        row["ltv_segment"] = segment_for(rank, cutoffs)
    for row in rows:
        row.setdefault("ltv_segment", "New")


def build_user_ltv(
    users: dict[int, User],
    orders: list[RevenueOrder],
    as_of_date: date,
    segment_cutoffs: tuple[float, float, float],
) -> list[dict]:
    orders_by_user: dict[int, list[RevenueOrder]] = defaultdict(list)
    for order in orders:
        orders_by_user[order.user_id].append(order)
    rows = [
        user_ltv_row(user, orders_by_user[user_id], as_of_date)
        for user_id, user in sorted(users.items())
    ]
    assign_segments(rows, segment_cutoffs)
    return rows


# ------------------------------------------------------------------ aggregate marts


def percentile_cont(values: list[Decimal], fraction: float) -> Optional[Decimal]:
    """Continuous percentile with linear interpolation, as SQL percentile_cont."""
    if not values:
        return None
    ordered = sorted(values)
    position = Decimal(str(fraction)) * (len(ordered) - 1)
    lower = int(position)  # floor: position is never negative
    upper = min(lower + 1, len(ordered) - 1)
    weight = position - lower
    return ordered[lower] + weight * (ordered[upper] - ordered[lower])


def eligible_rows(user_ltv: list[dict], horizon: str) -> list[dict]:
    """Users whose horizon is complete (lifetime: all users)."""
    if horizon == "lifetime":
        return user_ltv
    return [row for row in user_ltv if row[f"is_{horizon}_complete"]]


def build_summary(
    user_ltv: list[dict], as_of_date: date, ltv_to_cac_target: int
) -> list[dict]:
    rows = []
    for horizon, months in HORIZONS:
        eligible = eligible_rows(user_ltv, horizon)
        revenues = [row[f"revenue_{horizon}"] for row in eligible]
        total_revenue = sum(revenues, ZERO)
        total_orders = sum(row[f"orders_{horizon}"] for row in eligible)
        active_users = sum(1 for row in eligible if row[f"orders_{horizon}"] > 0)
        ltv_mean = divide(total_revenue, len(eligible))
        rows.append(
            {
                "horizon": horizon,
                "horizon_months": months,
                "as_of_date": as_of_date,
                "eligible_users": len(eligible),
                "active_users": active_users,
                "active_share": divide(active_users, len(eligible)),
                "total_revenue": total_revenue,
                "total_orders": total_orders,
                "ltv_mean": ltv_mean,
                "ltv_median": percentile_cont(revenues, 0.5),
                "ltv_p95": percentile_cont(revenues, 0.95),
                "aov": divide(total_revenue, total_orders),
                "orders_per_user": divide(total_orders, len(eligible)),
                "recommended_max_cac": (
                    None if ltv_mean is None else ltv_mean / Decimal(ltv_to_cac_target)
                ),
            }
        )
    return rows


def build_segments(user_ltv: list[dict], as_of_date: date) -> list[dict]:
    total_revenue = sum((row["revenue_lifetime"] for row in user_ltv), ZERO)
    rows = []
    for order, segment in enumerate(SEGMENTS, start=1):
        revenues = [
            row["revenue_lifetime"] for row in user_ltv if row["ltv_segment"] == segment
        ]
        revenue = sum(revenues, ZERO)
        rows.append(
            {
                "ltv_segment": segment,
                "segment_order": order,
                "as_of_date": as_of_date,
                "users": len(revenues),
                "share_of_users": divide(len(revenues), len(user_ltv)),
                "revenue_lifetime": revenue,
                "share_of_revenue": divide(revenue, total_revenue),
                "ltv_mean_lifetime": divide(revenue, len(revenues)),
                "min_revenue_lifetime": min(revenues, default=None),
                "max_revenue_lifetime": max(revenues, default=None),
            }
        )
    return rows


@dataclass(frozen=True)
class Bucket:
    order: int
    label: str
    lower_bound: Decimal
    upper_bound: Optional[Decimal]

    def holds(self, revenue: Decimal) -> bool:
        if self.order == 0:
            return revenue == 0
        return (
            revenue > 0
            and revenue >= self.lower_bound
            and (self.upper_bound is None or revenue < self.upper_bound)
        )


def buckets(edges: Iterable[float]) -> list[Bucket]:
    """'$0' (revenue exactly 0), one bucket per pair of edges, then '$<last>+'."""
    edges = [Decimal(str(edge)) for edge in edges]
    grid = [Bucket(0, "$0", ZERO, ZERO)]
    for order, (lower, upper) in enumerate(zip(edges, edges[1:]), start=1):
        grid.append(Bucket(order, f"${lower}-${upper}", lower, upper))
    grid.append(Bucket(len(edges), f"${edges[-1]}+", edges[-1], None))
    return grid


def build_distribution(
    user_ltv: list[dict], as_of_date: date, bucket_edges: Iterable[float]
) -> list[dict]:
    grid = buckets(bucket_edges)
    rows = []
    for horizon, _ in HORIZONS:
        eligible = eligible_rows(user_ltv, horizon)
        revenues = [row[f"revenue_{horizon}"] for row in eligible]
        horizon_revenue = sum(revenues, ZERO)
        for bucket in grid:
            in_bucket = [revenue for revenue in revenues if bucket.holds(revenue)]
            revenue = sum(in_bucket, ZERO)
            rows.append(
                {
                    "horizon": horizon,
                    "bucket_order": bucket.order,
                    "bucket_label": bucket.label,
                    "lower_bound": bucket.lower_bound,
                    "upper_bound": bucket.upper_bound,
                    "as_of_date": as_of_date,
                    "users": len(in_bucket),
                    "share_of_users": divide(len(in_bucket), len(revenues)),
                    "revenue": revenue,
                    "share_of_revenue": divide(revenue, horizon_revenue),
                }
            )
    return rows


# ------------------------------------------------------------------------ entry point


def compute_marts(
    users: list[dict],
    orders: list[dict],
    fx_rates: list[dict],
    as_of_date: date,
    *,
    revenue_statuses=("paid", "shipped", "completed"),
    segment_cutoffs=(0.95, 0.75, 0.25),
    bucket_edges=(0, 50, 100, 250, 500, 1000, 2500, 5000),
    ltv_to_cac_target=3,
) -> dict[str, list[dict]]:
    """Rows of user_ltv, ltv_summary, ltv_segments and ltv_distribution.

    ``users``/``orders`` are raw rows (dicts with the source columns), ``fx_rates`` rows
    have ``currency``, ``rate_month`` (date) and ``usd_per_unit``.
    """
    known_users = load_users(users, as_of_date)
    counted = revenue_orders(
        orders, known_users, fx_rates, as_of_date, revenue_statuses
    )
    user_ltv = build_user_ltv(known_users, counted, as_of_date, segment_cutoffs)
    return {
        "user_ltv": user_ltv,
        "ltv_summary": build_summary(user_ltv, as_of_date, ltv_to_cac_target),
        "ltv_segments": build_segments(user_ltv, as_of_date),
        "ltv_distribution": build_distribution(user_ltv, as_of_date, bucket_edges),
    }
