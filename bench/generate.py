"""Vectorized (numpy) raw users and orders for the benchmark, at millions of users.

scripts/demo_data.py is the project's reference generator, but it builds one Python
dict per order (about 2.6 s per 20,000 users, 8 GB of dicts at 1M users). This module
draws the same data with numpy: the same constants (imported from demo_data, so the two
stay in step), the same distributions of signups, buyer profiles, amounts, statuses,
currencies and edge dates, and the same dirty cases at the same rates (2% of the
logical orders each, one case per order): exact duplicates, re-sent rows (refunded
later, paid late, amount corrected), null user_id, null created_at, null and negative
and zero amounts, unknown users, orders before signup, statuses in any case with stray
spaces, null updated_at. It is not row-for-row identical to demo_data (another random
stream), only statistically alike. About 7.9 raw order rows per user. One
difference: the data end four months after the as-of date (`export_bounds`), not
on demo_data's last day, so that no stamp lies after the benchmark's run.

`generate_delta` draws the refresh of step (d): 1% new orders (new order_ids, dated in
the week before the as-of date: they arrive late) and new versions of 0.1% of the
existing orders (a revenue order refunded, a pending order paid late). Every delta
row is stamped when it lands, with an updated_at later than any row already loaded:
the project finds changes by their stamps (less a lookback), so a row stamped months
before the newest loaded one would need a full refresh.

CSV files are written by DuckDB (fast, multi-threaded): header row, empty field for
null, timestamps as YYYY-MM-DD HH:MM:SS, amounts with two decimals.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR / "scripts"))
import demo_data as demo  # noqa: E402  (lives in scripts/, not a package)

DAY = 86_400
EPOCH = datetime.date(1970, 1, 1)


def _day(d: datetime.date) -> int:
    return (d - EPOCH).days


def _ts(dt: datetime.datetime) -> int:
    return int((dt - datetime.datetime(1970, 1, 1)).total_seconds())


FIRST_SIGNUP = _day(demo.FIRST_SIGNUP_DATE)
# The export is taken this many months after the as-of date: it still holds orders
# dated on or after it, and, for the default as-of date, ends before any run of the
# benchmark. A stamp later than the run's start would be taken again by every refresh
# (macros/ltv_incremental_by_user.sql), so the refresh's cost would depend on the day.
EXPORT_MONTHS_AFTER_AS_OF = 4


class Export(NamedTuple):
    """The last signup day and the last order day of the data (days since 1970)."""

    last_signup: int
    last_order: int

    @property
    def last_ts(self) -> int:
        """The last second of the last order day."""
        return self.last_order * DAY + DAY - 1


def export_bounds(as_of: datetime.date) -> Export:
    """demo_data's calendar, ended EXPORT_MONTHS_AFTER_AS_OF months after as_of."""
    export_day = demo.add_months(as_of, EXPORT_MONTHS_AFTER_AS_OF)
    last_order = min(demo.LAST_ORDER_DATE, export_day - datetime.timedelta(days=1))
    signup_margin = demo.LAST_ORDER_DATE - demo.LAST_SIGNUP_DATE
    return Export(
        last_signup=_day(min(demo.LAST_SIGNUP_DATE, last_order - signup_margin)),
        last_order=_day(last_order),
    )


# --------------------------------------------------------------------- date helpers


def add_months(days: np.ndarray, months) -> np.ndarray:
    """Days since 1970 + n calendar months, clamped to the month end (Jan 31 + 1 = Feb 28/29)."""
    d = np.asarray(days).astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    day_of_month = (d - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.asarray(months).astype("timedelta64[M]")
    month_len = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(
        np.int64
    )
    out = target.astype("datetime64[D]") + np.minimum(day_of_month, month_len - 1)
    return out.astype(np.int64)


def month_end(days: np.ndarray) -> np.ndarray:
    month = np.asarray(days).astype("datetime64[D]").astype("datetime64[M]")
    return ((month + 1).astype("datetime64[D]") - 1).astype(np.int64)


def time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds into the day; 8% exactly 00:00:00 and 8% 23:59:59, as demo_data."""
    roll = rng.random(n)
    seconds = rng.integers(0, DAY, n)
    seconds[roll < 0.08] = 0
    seconds[(roll >= 0.08) & (roll < 0.16)] = DAY - 1
    return seconds


def _weighted(rng: np.random.Generator, weights: dict, n: int) -> tuple[list, np.ndarray]:
    keys = list(weights)
    p = np.array(list(weights.values()), dtype=float)
    return keys, rng.choice(len(keys), size=n, p=p / p.sum())


# -------------------------------------------------------------------- text spelling


class Vocabulary:
    """Distinct strings as small integer codes (-1 = null), for categorical columns."""

    CASES = (str.lower, str.upper, str.title)
    PADS = ("{}", " {}", "{} ", "  {}")

    def __init__(self):
        self.strings: list[str] = []
        self.index: dict[str, int] = {}

    def code(self, text: str) -> int:
        if text not in self.index:
            self.index[text] = len(self.strings)
            self.strings.append(text)
        return self.index[text]

    def spelled(self, rng: np.random.Generator, words: list, word_idx: np.ndarray) -> np.ndarray:
        """Codes of words[word_idx]; 12% in another case with stray spaces (' Paid')."""
        n_variants = 1 + len(self.CASES) * len(self.PADS)
        table = np.full((len(words), n_variants), -1, dtype=np.int32)
        for w, word in enumerate(words):
            if word is None:
                continue
            table[w, 0] = self.code(word)
            for c, case in enumerate(self.CASES):
                for p, pad in enumerate(self.PADS):
                    table[w, 1 + c * len(self.PADS) + p] = self.code(pad.format(case(word)))
        n = len(word_idx)
        variant = np.where(
            rng.random(n) < demo.MISSPELLED_SHARE, rng.integers(1, n_variants, n), 0
        )
        return table[word_idx, variant]

    def categorical(self, codes: np.ndarray) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=self.strings)


# ---------------------------------------------------------------------------- users


def generate_users(
    rng: np.random.Generator, n: int, as_of: datetime.date, export: Export
) -> dict:
    roll = rng.random(n)
    last_signup = EPOCH + datetime.timedelta(days=export.last_signup)
    n_months = (last_signup.year * 12 + last_signup.month) - (
        demo.FIRST_SIGNUP_DATE.year * 12 + demo.FIRST_SIGNUP_DATE.month
    )
    month_ends = month_end(add_months(np.full(n, FIRST_SIGNUP), rng.integers(0, n_months, n)))
    boundaries = np.array([_day(demo.add_months(as_of, -k)) for k in (0, 3, 6, 12)])
    on_boundary = np.minimum(
        boundaries[rng.integers(0, 4, n)] + rng.integers(0, 2, n), export.last_signup
    )
    spread = FIRST_SIGNUP + (
        (export.last_signup - FIRST_SIGNUP) * rng.random(n) ** 0.75
    ).astype(np.int64)
    signup_day = np.where(roll < 0.18, month_ends, np.where(roll < 0.24, on_boundary, spread))
    channels, channel_idx = _weighted(rng, demo.CHANNELS, n)
    return {
        "user_id": np.arange(1, n + 1, dtype=np.int64),
        "signup_day": signup_day,
        "created_at": signup_day * DAY + time_of_day(rng, n),
        "channels": channels,
        "channel_idx": channel_idx,
    }


# --------------------------------------------------------------------------- orders


def generate_orders(
    rng: np.random.Generator, users: dict, as_of: datetime.date, vocab: dict, export: Export
) -> dict:
    """One row per logical order, numbered in (created_at, user_id) order."""
    n_users = len(users["user_id"])
    signup = users["signup_day"]
    as_of_day = _day(as_of)
    profiles = demo.BUYER_PROFILES

    starter = rng.random(n_users) < demo.STARTER_BOX_SHARE
    weights = np.array([p.weight for p in profiles], dtype=float)
    profile = rng.choice(len(profiles), size=n_users, p=weights / weights.sum())
    lo = np.array([p.min_orders for p in profiles])[profile]
    hi = np.array([p.max_orders for p in profiles])[profile]
    n_orders = np.where(starter, 0, rng.integers(lo, hi + 1))
    typical = rng.lognormal(np.log(45), 0.5, n_users)
    typical[rng.random(n_users) < demo.BIG_SPENDER_SHARE] *= 12
    mean_active = np.array([p.mean_active_days for p in profiles], dtype=float)[profile]
    first_day = np.where(
        rng.random(n_users) < 0.35, 0, rng.exponential(20, n_users).astype(np.int64)
    )
    active_days = rng.exponential(np.maximum(mean_active, 1e-9))

    # Regular orders: one row per (user, k), k = 0 is the first order.
    user_idx = np.repeat(np.arange(n_users), n_orders)
    starts = np.cumsum(n_orders) - n_orders
    k = np.arange(len(user_idx)) - np.repeat(starts, n_orders)
    later = (active_days[user_idx] * rng.random(len(user_idx)) ** 1.5).astype(np.int64)
    day = signup[user_idx] + first_day[user_idx] + np.where(k > 0, later, 0)
    keep = day <= export.last_order
    user_idx, day = user_idx[keep], day[keep]
    n = len(user_idx)
    s = signup[user_idx]
    # Sometimes move an order to a date the marts must get exactly right.
    roll = rng.random(n)
    horizon_end = add_months(s, rng.choice([3, 6, 12], n)) - rng.integers(0, 2, n)
    day = np.where(roll < 0.04, horizon_end, day)
    day = np.where((roll >= 0.04) & (roll < 0.06), month_end(day), day)
    as_of_edge = (roll >= 0.06) & (roll < 0.07) & (s < as_of_day)
    day = np.where(as_of_edge, as_of_day - rng.integers(0, 2, n), day)
    day = np.minimum(day, export.last_order)
    statuses, status_idx = _weighted(rng, demo.STATUSES, n)
    currencies, currency_idx = _weighted(rng, demo.CURRENCIES, n)
    amount = np.maximum(1.0, typical[user_idx] * rng.lognormal(0, 0.45, n))
    regular = {
        "user_idx": user_idx,
        "day": day,
        "cents": np.round(amount * 100).astype(np.int64),
        "status": vocab["status"].spelled(rng, statuses, status_idx),
        "currency": vocab["currency"].spelled(rng, currencies, currency_idx),
    }

    # Starter boxes: one paid order at the catalogue price within the first 3 months.
    su = np.flatnonzero(starter)
    m = len(su)
    first_3 = add_months(signup[su], 3) - signup[su]
    starter_rows = {
        "user_idx": su,
        "day": np.minimum(
            signup[su] + (rng.random(m) * first_3).astype(np.int64), export.last_order
        ),
        "cents": np.full(m, int(demo.STARTER_BOX_PRICE * 100), dtype=np.int64),
        "status": vocab["status"].spelled(rng, ["paid"], np.zeros(m, dtype=np.int64)),
        "currency": vocab["currency"].spelled(rng, [None, "USD"], rng.integers(0, 2, m)),
    }

    rows = {key: np.concatenate([regular[key], starter_rows[key]]) for key in regular}
    total = len(rows["day"])
    created = rows["day"] * DAY + time_of_day(rng, total)
    updated = np.minimum(created + rng.integers(0, 3 * DAY, total), export.last_ts)
    updated_null = rng.random(total) < demo.NULL_UPDATED_AT_SHARE
    user_id = users["user_id"][rows["user_idx"]]
    order = np.lexsort((user_id, created))
    return {
        "order_id": np.arange(demo.FIRST_ORDER_ID, demo.FIRST_ORDER_ID + total, dtype=np.int64),
        "user_id": user_id[order],
        "user_null": np.zeros(total, dtype=bool),
        "created_at": created[order],
        "created_null": np.zeros(total, dtype=bool),
        "updated_at": updated[order],
        "updated_null": updated_null[order],
        "status": rows["status"][order],
        "cents": rows["cents"][order],
        "cents_null": np.zeros(total, dtype=bool),
        "currency": rows["currency"][order],
    }


# ---------------------------------------------------------------------- dirty cases

DIRTY_CASES = (
    "exact_duplicate",
    "refunded_later",
    "paid_late",
    "amount_corrected",
    "without_user",
    "without_created_at",
    "without_amount",
    "negative_amount",
    "zero_amount",
    "unknown_user",
    "before_signup",
)
EARLY_REVENUE_CASES = {"refunded_later", "paid_late", "amount_corrected"}


def _take(rows: dict, idx: np.ndarray) -> dict:
    return {key: value[idx].copy() for key, value in rows.items()}


def _resend_time(rng: np.random.Generator, rows: dict, export: Export) -> np.ndarray:
    """A later updated_at: the row's last update + 1..60 days + random seconds."""
    last = np.where(rows["updated_null"], rows["created_at"], rows["updated_at"])
    n = len(last)
    delay = rng.integers(1, 61, n) * DAY + rng.integers(0, DAY, n)
    return np.minimum(last + delay, export.last_ts)


def make_dirty(
    rng: np.random.Generator, orders: dict, users: dict, vocab: dict, export: Export
) -> tuple[dict, dict]:
    """The raw export (one case per sampled order) and the case of each logical order."""
    n = len(orders["order_id"])
    status_vocab = vocab["status"]
    normalized = np.array([s.strip().lower() for s in status_vocab.strings])
    is_revenue = np.isin(normalized, demo.REVENUE_STATUSES)[orders["status"]]
    early = is_revenue & (orders["created_at"] // DAY <= export.last_order - 90)

    per_case = max(demo.MIN_ROWS_PER_DIRTY_CASE, round(demo.DIRTY_CASE_SHARE * n))
    perm = rng.permutation(n)
    case_of = np.full(n, -1, dtype=np.int8)
    for c, case in enumerate(DIRTY_CASES):
        eligible = case_of[perm] < 0
        if case in EARLY_REVENUE_CASES:
            eligible &= early[perm]
        case_of[perm[eligible][:per_case]] = c

    raw = {key: value.copy() for key, value in orders.items()}
    extra = []

    def idx(case: str) -> np.ndarray:
        return np.flatnonzero(case_of == DIRTY_CASES.index(case))

    def spelled(word: str, m: int) -> np.ndarray:
        return status_vocab.spelled(rng, [word], np.zeros(m, dtype=np.int64))

    # Two-row cases: the original row stays, a second version is added.
    extra.append(_take(raw, idx("exact_duplicate")))
    i = idx("refunded_later")
    resent = _take(raw, i)
    resent["status"] = spelled("refunded", len(i))
    resent["updated_at"], resent["updated_null"][:] = _resend_time(rng, resent, export), False
    extra.append(resent)
    i = idx("paid_late")  # first sent as pending, then re-sent with its revenue status
    resent = _take(raw, i)
    raw["status"][i] = spelled("pending", len(i))
    raw["updated_at"][i], raw["updated_null"][i] = raw["created_at"][i], False
    resent["updated_at"] = _resend_time(rng, _take(raw, i), export)
    resent["updated_null"][:] = False
    extra.append(resent)
    i = idx("amount_corrected")
    resent = _take(raw, i)
    factor = np.array([5, 9, 11])[rng.integers(0, 3, len(i))]  # x 0.5, 0.9, 1.1
    q, r = np.divmod(resent["cents"] * factor, 10)
    resent["cents"] = q + ((r > 5) | ((r == 5) & (q % 2 == 1)))  # half-even, like Decimal
    resent["updated_at"], resent["updated_null"][:] = _resend_time(rng, resent, export), False
    extra.append(resent)

    # One-row cases: the row itself is dirty.
    raw["user_null"][idx("without_user")] = True
    raw["created_null"][idx("without_created_at")] = True
    raw["cents_null"][idx("without_amount")] = True
    i = idx("negative_amount")
    raw["cents"][i] = -raw["cents"][i]
    raw["cents"][idx("zero_amount")] = 0
    i = idx("unknown_user")
    raw["user_id"][i] = len(users["user_id"]) + rng.integers(1, 1000, len(i))
    i = idx("before_signup")
    signup = users["signup_day"][raw["user_id"][i] - 1]
    created = (signup - rng.integers(1, 29, len(i))) * DAY + time_of_day(rng, len(i))
    shift = raw["created_at"][i] - created
    raw["created_at"][i] = created
    raw["updated_at"][i] -= shift

    out = {key: np.concatenate([raw[key]] + [e[key] for e in extra]) for key in raw}
    # Each order's rows stay together, in order_id order (versions in random order).
    order = np.lexsort((rng.random(len(out["order_id"])), out["order_id"]))
    out = {key: value[order] for key, value in out.items()}
    counts = {case: int((case_of == c).sum()) for c, case in enumerate(DIRTY_CASES)}
    return out, {"case_of": case_of, "counts": counts, "is_revenue": is_revenue}


# ---------------------------------------------------------------------------- delta


def generate_delta(
    rng: np.random.Generator,
    users: dict,
    orders: dict,
    dirty: dict,
    as_of: datetime.date,
    vocab: dict,
    export: Export,
    new_share: float = 0.01,
    changed_share: float = 0.001,
) -> tuple[dict, dict]:
    """Rows appended for the refresh: new orders, and new versions of existing ones."""
    n_logical = len(orders["order_id"])
    as_of_day = _day(as_of)
    status_vocab = vocab["status"]
    normalized = np.array([s.strip().lower() for s in status_vocab.strings])

    # 1% new orders of users who signed up before as_of, dated in the week before it.
    n_new = round(new_share * n_logical)
    eligible_users = np.flatnonzero(users["signup_day"] < as_of_day)
    uidx = eligible_users[rng.integers(0, len(eligible_users), n_new)]
    created = (as_of_day - rng.integers(1, 8, n_new)) * DAY + time_of_day(rng, n_new)
    statuses, status_idx = _weighted(rng, demo.STATUSES, n_new)
    currencies, currency_idx = _weighted(rng, demo.CURRENCIES, n_new)
    amount = np.maximum(1.0, rng.lognormal(np.log(45), 0.5, n_new) * rng.lognormal(0, 0.45, n_new))
    first_new_id = int(orders["order_id"].max()) + 1
    new = {
        "order_id": np.arange(first_new_id, first_new_id + n_new, dtype=np.int64),
        "user_id": users["user_id"][uidx],
        "user_null": np.zeros(n_new, dtype=bool),
        "created_at": created,
        "created_null": np.zeros(n_new, dtype=bool),
        # Stamped when the export delivers them, after every row already loaded.
        "updated_at": export.last_ts + 1 + rng.integers(0, DAY, n_new),
        "updated_null": np.zeros(n_new, dtype=bool),
        "status": status_vocab.spelled(rng, statuses, status_idx),
        "cents": np.round(amount * 100).astype(np.int64),
        "cents_null": np.zeros(n_new, dtype=bool),
        "currency": vocab["currency"].spelled(rng, currencies, currency_idx),
    }

    # 0.1% status changes of clean orders dated before as_of: half refunds of revenue
    # orders, half late payments of pending orders. The new version's updated_at is
    # later than every loaded row (the data never goes past 2026-12-31 23:59:59).
    n_changed = round(changed_share * n_logical)
    clean = (dirty["case_of"] < 0) & (orders["created_at"] // DAY < as_of_day)
    status_norm = normalized[orders["status"]]
    refundable = np.flatnonzero(clean & dirty["is_revenue"])
    payable = np.flatnonzero(clean & (status_norm == "pending"))
    n_refund = min(n_changed - n_changed // 2, len(refundable))
    n_paid = min(n_changed // 2, len(payable))
    refund_idx = rng.choice(refundable, n_refund, replace=False)
    paid_idx = rng.choice(payable, n_paid, replace=False)
    changed = _take(orders, np.concatenate([refund_idx, paid_idx]))
    changed["status"] = np.concatenate(
        [
            status_vocab.spelled(rng, ["refunded"], np.zeros(n_refund, dtype=np.int64)),
            status_vocab.spelled(rng, ["paid"], np.zeros(n_paid, dtype=np.int64)),
        ]
    )
    m = n_refund + n_paid
    changed["updated_at"] = export.last_ts + 1 + rng.integers(0, DAY, m)
    changed["updated_null"][:] = False

    delta = {key: np.concatenate([new[key], changed[key]]) for key in new}
    return delta, {"new_orders": n_new, "refunded": n_refund, "paid_late": n_paid}


# ------------------------------------------------------------------------ CSV files


def _timestamps(seconds: np.ndarray, null: np.ndarray) -> np.ndarray:
    out = seconds.astype("datetime64[s]")
    out[null] = np.datetime64("NaT")
    return out


def users_frame(users: dict) -> pd.DataFrame:
    channels = users["channels"]
    categories = [c for c in channels if c is not None]
    codes = np.array([-1 if c is None else categories.index(c) for c in channels])
    return pd.DataFrame(
        {
            "user_id": users["user_id"],
            "created_at": users["created_at"].astype("datetime64[s]"),
            "acquisition_channel": pd.Categorical.from_codes(
                codes[users["channel_idx"]], categories=categories
            ),
        }
    )


def orders_frame(rows: dict, vocab: dict) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": rows["order_id"],
            "user_id": pd.Series(rows["user_id"], dtype="Int64").mask(rows["user_null"]),
            "created_at": _timestamps(rows["created_at"], rows["created_null"]),
            "updated_at": _timestamps(rows["updated_at"], rows["updated_null"]),
            "status": vocab["status"].categorical(rows["status"]),
            "cents": pd.Series(rows["cents"], dtype="Int64").mask(rows["cents_null"]),
            "currency": vocab["currency"].categorical(rows["currency"]),
        }
    )


def write_csv(frame: pd.DataFrame, path: Path, kind: str) -> None:
    import duckdb

    if kind == "users":
        select = (
            "select user_id, strftime(created_at, '%Y-%m-%d %H:%M:%S') as created_at, "
            "cast(acquisition_channel as varchar) as acquisition_channel from frame"
        )
    else:
        select = (
            "select order_id, user_id, "
            "strftime(created_at, '%Y-%m-%d %H:%M:%S') as created_at, "
            "strftime(updated_at, '%Y-%m-%d %H:%M:%S') as updated_at, "
            "cast(status as varchar) as status, "
            "cast(cents / 100 as decimal(18, 2)) as total_amount, "
            "cast(currency as varchar) as currency from frame"
        )
    with duckdb.connect() as con:
        con.register("frame", frame)
        con.execute(f"copy ({select}) to '{path}' (header, delimiter ',')")


def generate_files(
    out_dir: Path, n_users: int, seed: int, as_of: datetime.date
) -> dict:
    """Write users.csv, orders.csv and orders_delta.csv; return counts for the report."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    vocab = {"status": Vocabulary(), "currency": Vocabulary()}
    export = export_bounds(as_of)
    users = generate_users(rng, n_users, as_of, export)
    orders = generate_orders(rng, users, as_of, vocab, export)
    raw, dirty = make_dirty(rng, orders, users, vocab, export)
    delta, delta_counts = generate_delta(rng, users, orders, dirty, as_of, vocab, export)
    write_csv(users_frame(users), out_dir / "users.csv", "users")
    write_csv(orders_frame(raw, vocab), out_dir / "orders.csv", "orders")
    write_csv(orders_frame(delta, vocab), out_dir / "orders_delta.csv", "orders")
    return {
        "users": n_users,
        "data_ends": str(EPOCH + datetime.timedelta(days=export.last_order)),
        "logical_orders": len(orders["order_id"]),
        "raw_order_rows": len(raw["order_id"]),
        "dirty_orders_per_case": dirty["counts"],
        "delta_rows": len(delta["order_id"]),
        **{f"delta_{k}": v for k, v in delta_counts.items()},
    }


if __name__ == "__main__":
    import argparse
    import json
    import time

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", type=datetime.date.fromisoformat, default="2026-07-01")
    parser.add_argument("--out", type=Path, default=Path("/tmp/ltv_bench/data"))
    args = parser.parse_args()
    start = time.perf_counter()
    info = generate_files(args.out, args.users, args.seed, args.as_of)
    info["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(info, indent=2))
