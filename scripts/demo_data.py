"""Deterministic demo data for the LTV project: raw users, raw orders and FX rates.

Users sign up from 2021-01-01 to mid-December 2026: several years of cohorts, and
some users who sign up after the as-of date (their orders wait for them). Signups
cluster where date math breaks: month ends (Jan 31, Feb 29 2024, ...), exactly
as_of_date - 3/6/12 months and the day after, the as-of date itself, and the UTC day
edges 00:00:00 and 23:59:59. About 15% of users never order; the others place about
ten orders each, skewed from one or two up to heavy buyers with 50+, and a few big
spenders fill the top segments and the $5000+ bucket. About one in ten users buys only
the starter box: one paid order at its catalogue price (STARTER_BOX_PRICE, in USD)
within their first three months, and never again. These equal lifetime revenues form a
tie group that spans the 0.25 percent_rank cut-off of the segments (Low / Medium), so
the tie rule (equal revenue shares the lowest rank) decides their segment; this holds
for the demo defaults and for the pytest dataset (6000 users, seed 7, as of
2026-03-31). Orders land on the signup day,
on month ends, exactly on signup_date + 3/6/12 months (the exclusive horizon end) and
the day before it, and on the as-of date and the day before it.

The orders are as dirty as real exports, so the project must cope with:
- exact duplicate rows of one order (they collapse to one);
- re-sent rows of one order with a later updated_at: paid then refunded, pending then
  paid (a late payment), or a corrected amount (the latest row wins);
- null updated_at (deduplication falls back to created_at);
- status in any case with stray spaces (' Paid', 'SHIPPED '), the non-revenue
  statuses 'pending', 'cancelled', 'refunded' and 'failed', and unknown ones
  ('on_hold', 'disputed');
- null user_id;
- null created_at;
- null total_amount;
- negative total_amount;
- zero total_amount (valid: the order counts, with no revenue);
- a user_id that is not in users (above the largest user id);
- orders dated one to four weeks before the user's signup;
- orders dated on or after the as-of date (up to 2026-12-31, never later);
- currency null (the reporting currency), or USD, EUR, GBP in any case with spaces.

Order dates stay within 2019-01-01 .. 2026-12-31, the months fx_rates() covers, so
every EUR and GBP order has a rate. order_id is never null and is unique per logical
order: repeated ids come only from the duplicate and re-sent rows above.

Usage: python scripts/demo_data.py [--users 3000] [--seed 42] [--as-of 2026-07-01]
[--out seeds]. The output depends only on the arguments: reruns are byte-identical.
"""

import argparse
import calendar
import csv
import datetime
import math
import random
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Callable, NamedTuple

USER_COLUMNS = ["user_id", "created_at", "acquisition_channel"]
ORDER_COLUMNS = [
    "order_id",
    "user_id",
    "created_at",
    "updated_at",
    "status",
    "total_amount",
    "currency",
]
FX_COLUMNS = ["currency", "rate_month", "usd_per_unit"]
# The raw tables typed as a shop's database holds them: how the tests and the
# benchmark create them before loading generated rows.
RAW_COLUMN_TYPES = {
    "users": {
        "user_id": "bigint",
        "created_at": "timestamp",
        "acquisition_channel": "varchar",
    },
    "orders": {
        "order_id": "bigint",
        "user_id": "bigint",
        "created_at": "timestamp",
        "updated_at": "timestamp",
        "status": "varchar",
        "total_amount": "numeric(18,2)",
        "currency": "varchar",
    },
}

FIRST_SIGNUP_DATE = datetime.date(2021, 1, 1)
LAST_SIGNUP_DATE = datetime.date(2026, 12, 15)
LAST_ORDER_DATE = datetime.date(2026, 12, 31)
LAST_TIMESTAMP = datetime.datetime(2026, 12, 31, 23, 59, 59)
FIRST_ORDER_ID = 100_001
CENT = Decimal("0.01")

CHANNELS = {
    "organic": 30,
    "paid_search": 22,
    "paid_social": 18,
    "email": 10,
    "referral": 10,
    "affiliate": 5,
    None: 5,
}
STATUSES = {
    "completed": 46,
    "paid": 18,
    "shipped": 14,
    "pending": 5,
    "cancelled": 7,
    "refunded": 4,
    "failed": 4,
    "on_hold": 1,
    "disputed": 1,
}
REVENUE_STATUSES = ("paid", "shipped", "completed")
CURRENCIES = {None: 45, "USD": 38, "EUR": 11, "GBP": 6}
MISSPELLED_SHARE = 0.12
NULL_UPDATED_AT_SHARE = 0.04
BIG_SPENDER_SHARE = 0.04
# Users who buy the starter box once and never again (sized so that their tie group
# spans the 0.25 segment cut-off, see the module docstring).
STARTER_BOX_SHARE = 0.10
STARTER_BOX_PRICE = Decimal("15.00")
DIRTY_CASE_SHARE = 0.02  # of the logical orders, for each dirty case
MIN_ROWS_PER_DIRTY_CASE = 3

FIRST_FX_MONTH = datetime.date(2019, 1, 1)
LAST_FX_MONTH = datetime.date(2026, 12, 1)
FX_SEED = 2019
# USD per unit in millionths: the bounds of each currency's monthly random walk.
FX_BOUNDS_MICROS = {"EUR": (1_050_000, 1_200_000), "GBP": (1_200_000, 1_400_000)}
FX_MAX_STEP_MICROS = 12_000


class BuyerProfile(NamedTuple):
    weight: int
    min_orders: int
    max_orders: int
    mean_active_days: int


BUYER_PROFILES = (
    BuyerProfile(weight=15, min_orders=0, max_orders=0, mean_active_days=0),
    BuyerProfile(weight=35, min_orders=1, max_orders=2, mean_active_days=60),
    BuyerProfile(weight=35, min_orders=3, max_orders=14, mean_active_days=300),
    BuyerProfile(weight=12, min_orders=15, max_orders=40, mean_active_days=700),
    BuyerProfile(weight=3, min_orders=50, max_orders=120, mean_active_days=1000),
)


# --- Dates, times and spellings ------------------------------------------------------


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Month arithmetic as the warehouse does it: Jan 31 + 1 month = Feb 28/29."""
    year, month_index = divmod(_month_number(day) + months, 12)
    last_day = calendar.monthrange(year, month_index + 1)[1]
    return datetime.date(year, month_index + 1, min(day.day, last_day))


def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _month_number(day: datetime.date) -> int:
    """Months since year 0, so that month differences are plain subtractions."""
    return day.year * 12 + day.month - 1


def _days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def _time_of_day(rng: random.Random) -> datetime.time:
    """A random time, often exactly on a UTC day edge."""
    roll = rng.random()
    if roll < 0.08:
        return datetime.time(0, 0, 0)
    if roll < 0.16:
        return datetime.time(23, 59, 59)
    hour, seconds = divmod(rng.randrange(86_400), 3600)
    return datetime.time(hour, *divmod(seconds, 60))


def _at_random_time(rng: random.Random, day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, _time_of_day(rng))


def _weighted_choice(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _spelled(rng: random.Random, text: str) -> str:
    """Usually text as is; sometimes in another case, with stray spaces (' Paid')."""
    if rng.random() >= MISSPELLED_SHARE:
        return text
    cased = rng.choice((str.lower, str.upper, str.title))(text)
    return rng.choice(("{}", " {}", "{} ", "  {}")).format(cased)


# --- Users ---------------------------------------------------------------------------


def _generate_users(
    rng: random.Random, n_users: int, as_of: datetime.date
) -> list[dict]:
    return [
        {
            "user_id": user_id,
            "created_at": _at_random_time(rng, _signup_date(rng, as_of)),
            "acquisition_channel": _weighted_choice(rng, CHANNELS),
        }
        for user_id in range(1, n_users + 1)
    ]


def _signup_date(rng: random.Random, as_of: datetime.date) -> datetime.date:
    """Growing over time; often on a month end or on an as-of horizon boundary."""
    roll = rng.random()
    if roll < 0.18:
        months = _month_number(LAST_SIGNUP_DATE) - _month_number(FIRST_SIGNUP_DATE)
        return month_end(add_months(FIRST_SIGNUP_DATE, rng.randrange(months)))
    if roll < 0.24:
        # as_of - N months completes horizon N exactly; the day after does not.
        boundary = add_months(as_of, -rng.choice((0, 3, 6, 12)))
        return min(boundary + _days(rng.choice((0, 1))), LAST_SIGNUP_DATE)
    signup_days = (LAST_SIGNUP_DATE - FIRST_SIGNUP_DATE).days
    return FIRST_SIGNUP_DATE + _days(int(signup_days * rng.random() ** 0.75))


# --- Clean orders --------------------------------------------------------------------


def _generate_orders(
    rng: random.Random, users: list[dict], as_of: datetime.date
) -> list[dict]:
    """One row per logical order; order_id grows with created_at, as in real systems."""
    orders = [order for user in users for order in _user_orders(rng, user, as_of)]
    orders.sort(key=lambda order: (order["created_at"], order["user_id"]))
    for order_id, order in enumerate(orders, start=FIRST_ORDER_ID):
        order["order_id"] = order_id
    return orders


def _user_orders(rng: random.Random, user: dict, as_of: datetime.date) -> list[dict]:
    if rng.random() < STARTER_BOX_SHARE:
        return [_starter_box_order(rng, user)]
    profile = rng.choices(BUYER_PROFILES, [p.weight for p in BUYER_PROFILES])[0]
    n_orders = rng.randint(profile.min_orders, profile.max_orders)
    typical_amount = rng.lognormvariate(math.log(45), 0.5)
    if rng.random() < BIG_SPENDER_SHARE:
        typical_amount *= 12
    signup_date = user["created_at"].date()
    order_dates = _order_dates(rng, signup_date, n_orders, profile.mean_active_days)
    return [
        _order(
            rng,
            user["user_id"],
            _at_random_time(rng, _maybe_on_edge(rng, day, signup_date, as_of)),
            typical_amount,
        )
        for day in order_dates
    ]


def _starter_box_order(rng: random.Random, user: dict) -> dict:
    """One paid order at the starter box's catalogue price, in the first 3 months."""
    signup_date = user["created_at"].date()
    first_3_months = (add_months(signup_date, 3) - signup_date).days
    day = min(signup_date + _days(rng.randrange(first_3_months)), LAST_ORDER_DATE)
    created_at = _at_random_time(rng, day)
    currency = rng.choice((None, "USD"))
    return {
        "order_id": None,  # numbered once all orders are in time order
        "user_id": user["user_id"],
        "created_at": created_at,
        "updated_at": _updated_at(rng, created_at),
        "status": _spelled(rng, "paid"),
        "total_amount": STARTER_BOX_PRICE,
        "currency": None if currency is None else _spelled(rng, currency),
    }


def _order_dates(
    rng: random.Random,
    signup_date: datetime.date,
    n_orders: int,
    mean_active_days: int,
) -> list[datetime.date]:
    """Front-loaded after signup; orders past the last date of the data never happen."""
    if n_orders == 0:
        return []
    first_order_day = 0 if rng.random() < 0.35 else int(rng.expovariate(1 / 20))
    active_days = rng.expovariate(1 / mean_active_days)
    later_days = [
        first_order_day + int(active_days * rng.random() ** 1.5)
        for _ in range(n_orders - 1)
    ]
    order_dates = [signup_date + _days(day) for day in [first_order_day, *later_days]]
    return [day for day in order_dates if day <= LAST_ORDER_DATE]


def _maybe_on_edge(
    rng: random.Random,
    day: datetime.date,
    signup_date: datetime.date,
    as_of: datetime.date,
) -> datetime.date:
    """Sometimes move an order to a date the marts must get exactly right."""
    roll = rng.random()
    if roll < 0.04:
        # The exclusive end of horizon N (left out), or the day before it (counted).
        horizon_end = add_months(signup_date, rng.choice((3, 6, 12)))
        edge = horizon_end - _days(rng.choice((0, 1)))
    elif roll < 0.06:
        edge = month_end(day)
    elif roll < 0.07 and signup_date < as_of:
        # The as-of date itself (not observed yet), or the last observed day.
        edge = as_of - _days(rng.choice((0, 1)))
    else:
        edge = day
    return min(edge, LAST_ORDER_DATE)


def _order(
    rng: random.Random,
    user_id: int,
    created_at: datetime.datetime,
    typical_amount: float,
) -> dict:
    currency = _weighted_choice(rng, CURRENCIES)
    amount = max(1.0, typical_amount * rng.lognormvariate(0, 0.45))
    return {
        "order_id": None,  # numbered once all orders are in time order
        "user_id": user_id,
        "created_at": created_at,
        "updated_at": _updated_at(rng, created_at),
        "status": _spelled(rng, _weighted_choice(rng, STATUSES)),
        "total_amount": Decimal(amount).quantize(CENT),
        "currency": None if currency is None else _spelled(rng, currency),
    }


def _updated_at(
    rng: random.Random, created_at: datetime.datetime
) -> datetime.datetime | None:
    if rng.random() < NULL_UPDATED_AT_SHARE:
        return None
    delay = datetime.timedelta(seconds=rng.randrange(3 * 86_400))
    return min(created_at + delay, LAST_TIMESTAMP)


# --- Dirty cases ---------------------------------------------------------------------


class DirtyCaseContext(NamedTuple):
    rng: random.Random
    signup_at: dict[int, datetime.datetime]
    max_user_id: int


class DirtyCase(NamedTuple):
    applies_to: Callable[[dict], bool]
    # The raw rows that replace one clean order.
    raw_rows: Callable[[dict, DirtyCaseContext], list[dict]]


def _any_order(order: dict) -> bool:
    return True


def _is_early_revenue_order(order: dict) -> bool:
    """A revenue order with room for a re-sent row before the last date of the data."""
    status = order["status"].strip().lower()
    latest_start = LAST_ORDER_DATE - _days(90)
    return status in REVENUE_STATUSES and order["created_at"].date() <= latest_start


def _exact_duplicate(order: dict, context: DirtyCaseContext) -> list[dict]:
    return [order, dict(order)]


def _refunded_later(order: dict, context: DirtyCaseContext) -> list[dict]:
    return _resent(order, context, status=_spelled(context.rng, "refunded"))


def _paid_late(order: dict, context: DirtyCaseContext) -> list[dict]:
    """First sent as pending, then re-sent with the order's revenue status."""
    pending = {
        **order,
        "status": _spelled(context.rng, "pending"),
        "updated_at": order["created_at"],
    }
    return _resent(pending, context, status=order["status"])


def _amount_corrected(order: dict, context: DirtyCaseContext) -> list[dict]:
    factor = Decimal(context.rng.choice(("0.5", "0.9", "1.1")))
    corrected = (order["total_amount"] * factor).quantize(CENT)
    return _resent(order, context, total_amount=corrected)


def _resent(order: dict, context: DirtyCaseContext, **changes) -> list[dict]:
    """The order and a re-sent row with a later updated_at, in either order."""
    rng = context.rng
    last_update = order["updated_at"] or order["created_at"]
    delay = datetime.timedelta(days=rng.randint(1, 60), seconds=rng.randrange(86_400))
    updated_at = min(last_update + delay, LAST_TIMESTAMP)
    resent = {**order, **changes, "updated_at": updated_at}
    return [order, resent] if rng.random() < 0.5 else [resent, order]


def _without_user(order: dict, context: DirtyCaseContext) -> list[dict]:
    return [{**order, "user_id": None}]


def _without_created_at(order: dict, context: DirtyCaseContext) -> list[dict]:
    return [{**order, "created_at": None}]


def _without_amount(order: dict, context: DirtyCaseContext) -> list[dict]:
    return [{**order, "total_amount": None}]


def _negative_amount(order: dict, context: DirtyCaseContext) -> list[dict]:
    return [{**order, "total_amount": -order["total_amount"]}]


def _zero_amount(order: dict, context: DirtyCaseContext) -> list[dict]:
    return [{**order, "total_amount": Decimal("0.00")}]


def _unknown_user(order: dict, context: DirtyCaseContext) -> list[dict]:
    return [{**order, "user_id": context.max_user_id + context.rng.randint(1, 999)}]


def _before_signup(order: dict, context: DirtyCaseContext) -> list[dict]:
    signup_date = context.signup_at[order["user_id"]].date()
    weeks_before = signup_date - _days(context.rng.randint(1, 28))
    created_at = _at_random_time(context.rng, weeks_before)
    shift = order["created_at"] - created_at
    updated_at = None if order["updated_at"] is None else order["updated_at"] - shift
    return [{**order, "created_at": created_at, "updated_at": updated_at}]


DIRTY_CASES = (
    DirtyCase(_any_order, _exact_duplicate),
    DirtyCase(_is_early_revenue_order, _refunded_later),
    DirtyCase(_is_early_revenue_order, _paid_late),
    DirtyCase(_is_early_revenue_order, _amount_corrected),
    DirtyCase(_any_order, _without_user),
    DirtyCase(_any_order, _without_created_at),
    DirtyCase(_any_order, _without_amount),
    DirtyCase(_any_order, _negative_amount),
    DirtyCase(_any_order, _zero_amount),
    DirtyCase(_any_order, _unknown_user),
    DirtyCase(_any_order, _before_signup),
)


def _make_dirty(
    rng: random.Random, orders: list[dict], users: list[dict]
) -> list[dict]:
    """The raw export: each dirty case replaces its own sample of clean orders."""
    context = DirtyCaseContext(
        rng=rng,
        signup_at={user["user_id"]: user["created_at"] for user in users},
        max_user_id=max((user["user_id"] for user in users), default=0),
    )
    case_of = _assign_dirty_cases(rng, orders)
    raw_rows = []
    for index, order in enumerate(orders):
        case = case_of.get(index)
        raw_rows.extend(case.raw_rows(order, context) if case else [order])
    return raw_rows


def _assign_dirty_cases(
    rng: random.Random, orders: list[dict]
) -> dict[int, DirtyCase]:
    """Order index -> dirty case; no order gets two cases."""
    per_case = max(MIN_ROWS_PER_DIRTY_CASE, round(DIRTY_CASE_SHARE * len(orders)))
    candidates = list(range(len(orders)))
    rng.shuffle(candidates)
    case_of = {}
    for case in DIRTY_CASES:
        eligible = (
            index
            for index in candidates
            if index not in case_of and case.applies_to(orders[index])
        )
        case_of.update((index, case) for index in list(islice(eligible, per_case)))
    return case_of


# --- Public interface ----------------------------------------------------------------


def generate(
    n_users: int, seed: int, as_of_date: datetime.date
) -> tuple[list[dict], list[dict]]:
    """Raw users and raw orders (with every dirty case) for n_users users."""
    rng = random.Random(seed)
    users = _generate_users(rng, n_users, as_of_date)
    orders = _generate_orders(rng, users, as_of_date)
    return users, _make_dirty(rng, orders, users)


def fx_rates() -> list[dict]:
    """USD per EUR and per GBP for every month of the data: bounded random walks."""
    rng = random.Random(FX_SEED)
    n_months = _month_number(LAST_FX_MONTH) - _month_number(FIRST_FX_MONTH) + 1
    rows = []
    for currency, (low, high) in FX_BOUNDS_MICROS.items():
        micros = (low + high) // 2
        for month in range(n_months):
            step = rng.randint(-FX_MAX_STEP_MICROS, FX_MAX_STEP_MICROS)
            micros = min(max(micros + step, low), high)
            rows.append(
                {
                    "currency": currency,
                    "rate_month": add_months(FIRST_FX_MONTH, month),
                    "usd_per_unit": Decimal(micros).scaleb(-6),
                }
            )
    return rows


def write_csv(rows: list[dict], columns: list[str], path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_field(row[column]) for column in columns])


def as_text(value):
    """A raw value as the text a warehouse casts back to its type; None stays None."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _csv_field(value) -> str:
    """None as an empty field, datetimes to the second; dates and decimals via str()."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--as-of", type=datetime.date.fromisoformat, default=datetime.date(2026, 7, 1)
    )
    parser.add_argument("--out", type=Path, default=Path("seeds"))
    args = parser.parse_args(argv)
    users, orders = generate(args.users, args.seed, args.as_of)
    write_csv(users, USER_COLUMNS, args.out / "demo" / "demo_users.csv")
    write_csv(orders, ORDER_COLUMNS, args.out / "demo" / "demo_orders.csv")
    write_csv(fx_rates(), FX_COLUMNS, args.out / "demo" / "demo_fx_rates.csv")


if __name__ == "__main__":
    main()
