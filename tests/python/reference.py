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
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
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
    acquisition_channel: str


@dataclass(frozen=True)
class RevenueOrder:
    """A valid order with a revenue status, its amount converted to USD."""

    user_id: int
    order_date: date
    amount_usd: Decimal


# --------------------------------------------------------------------------- inputs


ISO_STAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r" ?([zZ]|[+-]\d{2}(?::?\d{2})?)?)?"
)


def utc_timestamp(value: Optional[datetime | date | str]) -> Optional[datetime]:
    """A raw stamp as a naive UTC datetime (spec, Inputs): a datetime without a zone
    is UTC already; ISO 8601 text (``T`` or a space, ``Z``/``z``/``+hh:mm``/``+hh``
    with or without a space before it, up to nine fractional digits) has its
    fraction truncated to microseconds and its offset applied. None stays None."""
    if value is None or isinstance(value, datetime):
        if value is not None and value.tzinfo is not None:
            return value.astimezone(timezone.utc).replace(tzinfo=None)
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    match = ISO_STAMP.fullmatch(value)
    if match is None:
        raise ValueError(f"not an ISO 8601 stamp: {value!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    stamp = datetime(
        int(year), int(month), int(day), int(hour or 0), int(minute or 0),
        int(second or 0), int((fraction or "0")[:6].ljust(6, "0")),
    )
    if zone in (None, "Z", "z"):
        return stamp
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    return stamp - offset if zone[0] == "+" else stamp + offset


def to_date(value: Optional[datetime | date | str]) -> Optional[date]:
    """UTC calendar date of a raw stamp (``cast(x as date)``); None stays None."""
    stamp = utc_timestamp(value)
    return stamp.date() if stamp is not None else None


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """Calendar month arithmetic, clamped to the last day of the target month."""
    return day + relativedelta(months=months)


def signup_dates(users: Iterable[dict]) -> dict[int, Optional[date]]:
    """Every raw user's signup date (None without a signup timestamp), by user_id."""
    dates: dict[int, Optional[date]] = {}
    for row in users:
        user_id = row["user_id"]
        if user_id in dates:
            raise ValueError(f"duplicate user_id {user_id} in users")
        dates[user_id] = to_date(row["created_at"])
    return dates


def load_users(users: Iterable[dict], as_of_date: date) -> dict[int, User]:
    """Users who signed up before the as-of date, keyed by user_id.

    A user without a signup timestamp never satisfies ``signup_date < as_of_date``
    and is left out like a user who signs up later.
    """
    users = list(users)
    signups = signup_dates(users)
    loaded: dict[int, User] = {}
    for row in users:
        signup_date = signups[row["user_id"]]
        if signup_date is not None and signup_date < as_of_date:
            loaded[row["user_id"]] = User(
                row["user_id"], signup_date, normalize_channel(row["acquisition_channel"])
            )
    return loaded


def normalize_channel(raw: Optional[str]) -> str:
    """The channel as the spec compares it: lower(trim()), 'unknown' when null or blank.
    SQL's trim removes spaces only."""
    channel = (raw or "").strip(" ").lower()
    return channel or "unknown"


def latest_version_key(order: dict) -> Optional[datetime]:
    """The timestamp that decides which row of an order_id is the latest."""
    if order["updated_at"] is not None:
        return utc_timestamp(order["updated_at"])
    return utc_timestamp(order["created_at"])


def deduplicate_orders(orders: Iterable[dict]) -> list[dict]:
    """One row per order_id: the row with the latest coalesce(updated_at, created_at).

    A row whose timestamps are both null is older than any dated row. Exact duplicates
    collapse. Two *different* rows sharing the latest timestamp (or both undated, when
    no row of the id is dated) are a tie the spec does not resolve (the project breaks
    it deterministically, but any choice is a guess, and order_audit shows the kept
    row's columns), so the test data must not contain one: this raises instead of
    guessing. Rows without an order_id have no identity to deduplicate on and are not
    orders.
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
    return latest_version_key(order) == latest_version_key(kept)


def normalize_status(status: Optional[str]) -> Optional[str]:
    """lower(trim(status)); None stays None (and is no revenue status)."""
    return status.strip().lower() if status is not None else None


def normalize_currency(currency: Optional[str]) -> str:
    """upper(trim(currency)); the reporting currency when null or empty."""
    code = currency.strip().upper() if currency is not None else ""
    return code or REPORTING_CURRENCY


def fx_rate_lookup(fx_rates: Iterable[dict]) -> dict[tuple[str, date], Decimal]:
    """USD per unit keyed by (currency, first day of month)."""
    return {
        (normalize_currency(rate["currency"]), rate["rate_month"]): Decimal(
            rate["usd_per_unit"]
        )
        for rate in fx_rates
    }


def amount_in_usd(
    amount: Optional[Decimal], currency: str, order_date: Optional[date], rates: dict
) -> Optional[Decimal]:
    """The amount in USD: itself for USD, else times the rate of the order's month.

    None without an amount, and None without a rate (an undated order has no month).
    """
    if amount is None:
        return None
    if currency == REPORTING_CURRENCY:
        return amount
    if order_date is None:
        return None
    rate = rates.get((currency, month_start(order_date)))
    return None if rate is None else amount * rate


# ----------------------------------------------------------------------- order_audit

# The checks a deduplicated order can fail, in the order they are applied: an order
# that fails several carries the first one's reason.
EXCLUSION_REASONS = (
    "missing_user_id",
    "missing_order_date",
    "missing_amount",
    "negative_amount",
    "unknown_user",
    "user_without_signup_date",
    "ordered_on_or_after_as_of_date",
    "user_signed_up_on_or_after_as_of_date",
    "non_revenue_status",
)


def exclusion_reason(
    order: dict,
    signups: dict[int, Optional[date]],
    as_of_date: date,
    revenue_statuses: set[str],
) -> Optional[str]:
    """Why a deduplicated order earns no revenue (first failing check); None if it does.

    ``signups`` holds every raw user, so an id missing from it is an unknown user, and
    a None signup date is a user without one.
    """
    user_id = order["user_id"]
    order_date = to_date(order["created_at"])
    amount = order["total_amount"]
    if user_id is None:
        return "missing_user_id"
    if order_date is None:
        return "missing_order_date"
    if amount is None:
        return "missing_amount"
    if amount < 0:
        return "negative_amount"
    if user_id not in signups:
        return "unknown_user"
    if signups[user_id] is None:
        return "user_without_signup_date"
    if order_date >= as_of_date:
        return "ordered_on_or_after_as_of_date"
    if signups[user_id] >= as_of_date:
        return "user_signed_up_on_or_after_as_of_date"
    if normalize_status(order["status"]) not in revenue_statuses:
        return "non_revenue_status"
    return None


def build_order_audit(
    orders: Iterable[dict],
    users: Iterable[dict],
    fx_rates: Iterable[dict],
    as_of_date: date,
    revenue_statuses: Iterable[str],
) -> list[dict]:
    """One row per distinct raw order_id: the kept version and whether it counts.

    ``users`` are all raw users (the reasons tell unknown users from users who have no
    signup date or sign up later). amount_usd is computed for every order with an
    amount and a rate, counted or not.
    """
    orders = list(orders)
    signups = signup_dates(users)
    rates = fx_rate_lookup(fx_rates)
    statuses = set(revenue_statuses)
    source_rows = Counter(o["order_id"] for o in orders if o["order_id"] is not None)
    rows = []
    for order in sorted(deduplicate_orders(orders), key=lambda o: o["order_id"]):
        reason = exclusion_reason(order, signups, as_of_date, statuses)
        order_date = to_date(order["created_at"])
        currency = normalize_currency(order["currency"])
        rows.append(
            {
                "order_id": order["order_id"],
                "user_id": order["user_id"],
                "order_status": normalize_status(order["status"]),
                "currency_code": currency,
                "exclusion_reason": reason,
                "order_amount": order["total_amount"],
                "amount_usd": amount_in_usd(
                    order["total_amount"], currency, order_date, rates
                ),
                "source_row_count": source_rows[order["order_id"]],
                "is_revenue": reason is None,
                "order_date": order_date,
                "as_of_date": as_of_date,
            }
        )
    return rows


def revenue_orders(order_audit: list[dict]) -> list[RevenueOrder]:
    """The audit's revenue orders in USD; one without an fx rate is an error."""
    counted = []
    for row in order_audit:
        if not row["is_revenue"]:
            continue
        if row["amount_usd"] is None:
            raise ValueError(
                f"no fx rate for {row['currency_code']} in {row['order_date']:%Y-%m}"
            )
        counted.append(
            RevenueOrder(row["user_id"], row["order_date"], row["amount_usd"])
        )
    return counted


def orders_by_user(orders: Iterable[RevenueOrder]) -> dict[int, list[RevenueOrder]]:
    """Revenue orders grouped by user; a user without orders gets an empty list."""
    grouped: dict[int, list[RevenueOrder]] = defaultdict(list)
    for order in orders:
        grouped[order.user_id].append(order)
    return grouped


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
        "acquisition_channel": user.acquisition_channel,
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
    grouped = orders_by_user(orders)
    rows = [
        user_ltv_row(user, grouped[user_id], as_of_date)
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


def recommended_max_cac(
    ltv_mean: Optional[Decimal], ltv_to_cac_target: int
) -> Optional[Decimal]:
    """The highest CAC that keeps the target LTV:CAC ratio; None without an LTV."""
    return None if ltv_mean is None else ltv_mean / Decimal(ltv_to_cac_target)


def horizon_statistics(rows: list[dict], horizon: str) -> dict:
    """The statistics of one group's users eligible for the horizon, shared by the
    summary and the channels (as models/intermediate/int_horizons_aggregated.sql is)."""
    eligible = eligible_rows(rows, horizon)
    revenues = [row[f"revenue_{horizon}"] for row in eligible]
    total_revenue = sum(revenues, ZERO)
    active_users = sum(1 for row in eligible if row[f"orders_{horizon}"] > 0)
    return {
        "eligible_users": len(eligible),
        "active_users": active_users,
        "active_share": divide(active_users, len(eligible)),
        "total_revenue": total_revenue,
        "total_orders": sum(row[f"orders_{horizon}"] for row in eligible),
        "ltv_mean": divide(total_revenue, len(eligible)),
        "ltv_median": percentile_cont(revenues, 0.5),
        "ltv_p95": percentile_cont(revenues, 0.95),
    }


def build_summary(
    user_ltv: list[dict], as_of_date: date, ltv_to_cac_target: int
) -> list[dict]:
    rows = []
    for horizon, months in HORIZONS:
        stats = horizon_statistics(user_ltv, horizon)
        rows.append(
            {
                "horizon": horizon,
                "horizon_months": months,
                "as_of_date": as_of_date,
                **stats,
                "aov": divide(stats["total_revenue"], stats["total_orders"]),
                "orders_per_user": divide(
                    stats["total_orders"], stats["eligible_users"]
                ),
                "recommended_max_cac": recommended_max_cac(
                    stats["ltv_mean"], ltv_to_cac_target
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


# --------------------------------------------------------------------- analyst marts


def build_cohorts(
    users: dict[int, User], orders: list[RevenueOrder], as_of_date: date
) -> list[dict]:
    """ltv_cohorts: per signup-month cohort, each month of life all its users completed.

    Month m of a user is ``[signup + m months, signup + (m+1) months)``, both ends taken
    from the signup date (so Jan 31 gives Feb 28, Mar 31, Apr 30, ...); month 0 has no
    lower bound, as pre-signup orders count from the signup day on. Row m exists when
    the cohort's last signup date + (m+1) months <= as_of_date.
    """
    grouped = orders_by_user(orders)
    cohorts: dict[date, list[User]] = defaultdict(list)
    for user in users.values():
        cohorts[month_start(user.signup_date)].append(user)
    rows = []
    for signup_month, members in sorted(cohorts.items()):
        last_signup = max(user.signup_date for user in members)
        month = 0
        while add_months(last_signup, month + 1) <= as_of_date:
            rows.append(
                cohort_month_row(signup_month, month, members, grouped, as_of_date)
            )
            month += 1
    return rows


def cohort_month_row(
    signup_month: date,
    month: int,
    members: list[User],
    grouped: dict[int, list[RevenueOrder]],
    as_of_date: date,
) -> dict:
    """The ltv_cohorts row of one cohort in its month of life ``month``."""
    active_users = 0
    revenue_in_month = revenue_cumulative = ZERO
    for user in members:
        start = None if month == 0 else add_months(user.signup_date, month)
        end = add_months(user.signup_date, month + 1)
        before_end = _orders_before(grouped[user.user_id], end)
        in_month = [o for o in before_end if start is None or o.order_date >= start]
        active_users += 1 if in_month else 0
        revenue_in_month += sum((o.amount_usd for o in in_month), ZERO)
        revenue_cumulative += sum((o.amount_usd for o in before_end), ZERO)
    return {
        "signup_month": signup_month,
        "months_since_signup": month,
        "as_of_date": as_of_date,
        "cohort_users": len(members),
        "active_users": active_users,
        "active_share": divide(active_users, len(members)),
        "revenue_in_month": revenue_in_month,
        "revenue_cumulative": revenue_cumulative,
        "ltv_cumulative": divide(revenue_cumulative, len(members)),
    }


def build_by_channel(
    user_ltv: list[dict],
    as_of_date: date,
    channel_cac: Iterable[dict],
    ltv_to_cac_target: int,
) -> list[dict]:
    """ltv_by_channel: ltv_summary's statistics per acquisition channel, against CAC.

    Every channel of user_ltv (``'unknown'`` included) gets its four horizon rows; a
    channel without a ``channel_cac`` row has a null cac and ltv_to_cac.
    """
    cac_of = {row["acquisition_channel"]: Decimal(row["cac"]) for row in channel_cac}
    members_of: dict[str, list[dict]] = defaultdict(list)
    for row in user_ltv:
        members_of[row["acquisition_channel"]].append(row)
    rows = []
    for channel, members in sorted(members_of.items()):
        cac = cac_of.get(channel)
        for horizon, months in HORIZONS:
            stats = horizon_statistics(members, horizon)
            ltv_mean = stats["ltv_mean"]
            rows.append(
                {
                    "acquisition_channel": channel,
                    "horizon": horizon,
                    "horizon_months": months,
                    "as_of_date": as_of_date,
                    **{
                        name: stats[name]
                        for name in (
                            "eligible_users", "active_users", "active_share",
                            "total_revenue", "ltv_mean", "ltv_median",
                        )
                    },
                    "cac": cac,
                    "ltv_to_cac": None if ltv_mean is None else divide(ltv_mean, cac),
                    "recommended_max_cac": recommended_max_cac(
                        ltv_mean, ltv_to_cac_target
                    ),
                }
            )
    return rows


def build_user_rfm(orders: list[RevenueOrder], as_of_date: date) -> list[dict]:
    """user_rfm: lifetimes' summary_data_from_transaction_data at freq='D'.

    The observation end is as_of_date - 1 day (lifetimes' end is inclusive, as_of_date
    is exclusive). A user's orders of one day are one purchase, their amounts summed;
    the first purchase day is no repeat purchase, so monetary_value leaves it out.
    """
    observation_end = as_of_date - timedelta(days=1)
    rows = []
    for user_id, user_orders in sorted(orders_by_user(orders).items()):
        purchases: dict[date, Decimal] = defaultdict(lambda: ZERO)
        for order in user_orders:
            purchases[order.order_date] += order.amount_usd
        days = sorted(purchases)
        repeat_amounts = [purchases[day] for day in days[1:]]
        mean_repeat = divide(sum(repeat_amounts, ZERO), len(repeat_amounts))
        rows.append(
            {
                "user_id": user_id,
                "as_of_date": as_of_date,
                "frequency": len(days) - 1,
                "recency": (days[-1] - days[0]).days,
                "t": (observation_end - days[0]).days,
                "monetary_value": ZERO if mean_repeat is None else mean_repeat,
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
    channel_cac: Iterable[dict] = (),
    revenue_statuses=("paid", "shipped", "completed"),
    segment_cutoffs=(0.95, 0.75, 0.25),
    bucket_edges=(0, 50, 100, 250, 500, 1000, 2500, 5000),
    ltv_to_cac_target=3,
) -> dict[str, list[dict]]:
    """Rows of every mart of the spec, by mart name.

    ``users``/``orders`` are raw rows (dicts with the source columns), ``fx_rates`` rows
    have ``currency``, ``rate_month`` (date) and ``usd_per_unit``, ``channel_cac`` rows
    (the seed) have ``acquisition_channel`` and ``cac``.
    """
    order_audit = build_order_audit(
        orders, users, fx_rates, as_of_date, revenue_statuses
    )
    counted = revenue_orders(order_audit)
    known_users = load_users(users, as_of_date)
    user_ltv = build_user_ltv(known_users, counted, as_of_date, segment_cutoffs)
    return {
        "user_ltv": user_ltv,
        "ltv_summary": build_summary(user_ltv, as_of_date, ltv_to_cac_target),
        "ltv_segments": build_segments(user_ltv, as_of_date),
        "ltv_distribution": build_distribution(user_ltv, as_of_date, bucket_edges),
        "ltv_cohorts": build_cohorts(known_users, counted, as_of_date),
        "ltv_by_channel": build_by_channel(
            user_ltv, as_of_date, channel_cac, ltv_to_cac_target
        ),
        "user_rfm": build_user_rfm(counted, as_of_date),
        "order_audit": order_audit,
    }
