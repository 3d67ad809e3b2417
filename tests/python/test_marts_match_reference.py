"""Every column of every row of every mart equals the Python reference, per engine,
with the default vars and again with every var of the marts' logic changed.

Rows are matched by each mart's key. Integers, strings, dates and booleans must be
equal (and of the same type for dates and strings); other numbers must agree to a
relative 1e-6 (absolute 1e-9 near zero), which leaves room for double-precision
percentiles but not for rounded money.
"""

from collections import Counter

import pytest

from conftest import AS_OF_DATE, MARTS, build_and_read_marts, reference_marts_for
from harness.comparison import values_match
from harness.warehouses import Table
from reference import EXCLUSION_REASONS

MART_KEYS = {
    "user_ltv": ("user_id",),
    "ltv_summary": ("horizon",),
    "ltv_segments": ("ltv_segment",),
    "ltv_distribution": ("horizon", "bucket_order"),
    "ltv_cohorts": ("signup_month", "months_since_signup"),
    "ltv_by_channel": ("acquisition_channel", "horizon"),
    "user_rfm": ("user_id",),
    "order_audit": ("order_id",),
}
EXAMPLES_PER_COLUMN = 5


# ------------------------------------------------------------------------ comparison


def rows_by_key(rows: list, key_columns: tuple) -> dict:
    return {tuple(row[column] for column in key_columns): row for row in rows}


def key_text(key: tuple, key_columns: tuple) -> str:
    return ", ".join(f"{column}={value!r}" for column, value in zip(key_columns, key))


def column_differences(expected_rows: list, actual: Table, key_columns: tuple) -> list:
    """Human-readable differences between the reference rows and a built mart."""
    expected_columns = list(expected_rows[0])
    problems = []
    if sorted(actual.columns) != sorted(expected_columns):
        missing = sorted(set(expected_columns) - set(actual.columns))
        unexpected = sorted(set(actual.columns) - set(expected_columns))
        problems.append(f"columns: missing {missing}, unexpected {unexpected}")

    expected_by_key = rows_by_key(expected_rows, key_columns)
    actual_by_key = rows_by_key(actual.rows, key_columns)
    if len(actual_by_key) != len(actual.rows):
        problems.append(f"key {key_columns} is not unique in the mart")
    missing_keys = sorted(set(expected_by_key) - set(actual_by_key))
    unexpected_keys = sorted(set(actual_by_key) - set(expected_by_key))
    if missing_keys:
        problems.append(f"{len(missing_keys)} rows missing, e.g. {missing_keys[:5]}")
    if unexpected_keys:
        problems.append(
            f"{len(unexpected_keys)} rows unexpected, e.g. {unexpected_keys[:5]}"
        )

    common_keys = sorted(set(expected_by_key) & set(actual_by_key))
    for column in expected_columns:
        if column not in actual.columns:
            continue
        pairs = [
            (key, expected_by_key[key][column], actual_by_key[key][column])
            for key in common_keys
        ]
        mismatches = [pair for pair in pairs if not values_match(pair[1], pair[2])]
        if mismatches:
            problems.append(
                f"{column}: {len(mismatches)} of {len(common_keys)} rows differ, e.g.\n"
                + "\n".join(
                    f"    {key_text(key, key_columns)}: "
                    f"expected {expected!r}, got {got!r}"
                    for key, expected, got in mismatches[:EXAMPLES_PER_COLUMN]
                )
            )
    return problems


def assert_mart_matches(expected_marts: dict, actual_marts: dict, mart, engine):
    problems = column_differences(
        expected_marts[mart], actual_marts[mart], MART_KEYS[mart]
    )
    assert not problems, f"{mart} on {engine} differs from the reference:\n" + (
        "\n".join(f"  {problem}" for problem in problems)
    )


# Every var the marts' logic reads, away from its default. The unit tests pin the
# defaults (they failed such a build before they did), so the build still passes.
OTHER_VARS = {
    "ltv_revenue_statuses": ["paid", "pending"],
    "ltv_segment_vip_min_rank": 0.9,
    "ltv_segment_high_min_rank": 0.6,
    "ltv_segment_medium_min_rank": 0.3,
    "ltv_bucket_edges": [0, 20, 75.5, 300],
    "ltv_to_cac_target": 4,
}


# ----------------------------------------------------------------------------- tests


class TestMartsMatchReference:
    """One build per engine (class-scoped fixtures), one test per mart."""

    @pytest.mark.parametrize("mart", MARTS)
    def test_mart_matches_reference(self, engine, mart, built_marts, reference_marts):
        assert_mart_matches(reference_marts, built_marts, mart, engine)


class TestMartsMatchReferenceWithOtherVars:
    """The same, built with every logic var changed: `dbt build` passes (unit tests
    included) and the marts follow the vars as the reference does."""

    @pytest.fixture(scope="class")
    def built_with_other_vars(self, engine, dataset, profiles_dir, tmp_path_factory):
        return build_and_read_marts(
            engine, dataset, profiles_dir, tmp_path_factory, OTHER_VARS
        )

    @pytest.fixture(scope="class")
    def reference_with_other_vars(self, dataset) -> dict:
        return reference_marts_for(
            dataset,
            revenue_statuses=tuple(OTHER_VARS["ltv_revenue_statuses"]),
            segment_cutoffs=(
                OTHER_VARS["ltv_segment_vip_min_rank"],
                OTHER_VARS["ltv_segment_high_min_rank"],
                OTHER_VARS["ltv_segment_medium_min_rank"],
            ),
            bucket_edges=tuple(OTHER_VARS["ltv_bucket_edges"]),
            ltv_to_cac_target=OTHER_VARS["ltv_to_cac_target"],
        )

    @pytest.mark.parametrize("mart", MARTS)
    def test_mart_matches_reference(
        self, engine, mart, built_with_other_vars, reference_with_other_vars
    ):
        assert_mart_matches(
            reference_with_other_vars, built_with_other_vars, mart, engine
        )


def test_dataset_has_every_kind_of_dirt(dataset):
    """The comparison only means something if the raw data exercises the rules."""
    known_users = {user["user_id"] for user in dataset.users}
    orders = dataset.orders
    order_dates = [o["created_at"].date() for o in orders if o["created_at"]]
    statuses = {o["status"] for o in orders if o["status"]}
    currencies = {o["currency"] for o in orders}
    assert max(Counter(o["order_id"] for o in orders).values()) > 1
    assert any(status != status.strip().lower() for status in statuses)
    assert any(c is not None and c != c.strip().upper() for c in currencies)
    assert None in currencies
    assert any(o["user_id"] is None for o in orders)
    assert any(o["user_id"] not in known_users for o in orders if o["user_id"])
    assert any(o["created_at"] is None for o in orders)
    assert any(o["updated_at"] is None for o in orders)
    assert any(o["total_amount"] is None for o in orders)
    assert any(o["total_amount"] is not None and o["total_amount"] < 0 for o in orders)
    assert any(day >= AS_OF_DATE for day in order_dates)
    assert any(
        user["created_at"] and user["created_at"].date() >= AS_OF_DATE
        for user in dataset.users
    )
    assert any(user["created_at"] is None for user in dataset.users)


def test_reference_is_not_trivial(reference_marts):
    """Every segment, the top bucket and incomplete horizons are populated."""
    user_ltv = reference_marts["user_ltv"]
    summary = rows_by_key(reference_marts["ltv_summary"], ("horizon",))
    distribution = rows_by_key(
        reference_marts["ltv_distribution"], ("horizon", "bucket_order")
    )
    assert all(row["users"] > 0 for row in reference_marts["ltv_segments"])
    assert distribution[("lifetime", 8)]["bucket_label"] == "$5000+"
    assert distribution[("lifetime", 8)]["users"] > 0
    assert distribution[("lifetime", 0)]["users"] > 0
    lifetime_users = summary[("lifetime",)]["eligible_users"]
    for horizon in ("3m", "6m", "12m"):
        assert 0 < summary[(horizon,)]["eligible_users"] < lifetime_users
    assert any(
        row["first_order_date"] is not None
        and row["first_order_date"] < row["signup_date"]
        for row in user_ltv
    )
    assert any(row["revenue_3m"] < row["revenue_6m"] for row in user_ltv)
    assert all(row["as_of_date"] == AS_OF_DATE for row in user_ltv)


def test_analyst_marts_are_not_trivial(reference_marts):
    """Long cohort curves, channels without CAC (the dataset is not the demo's, so
    the demo's CACs never reach it), one-time and repeat buyers (with same-day orders
    to merge), and every exclusion reason."""
    cohort_months = Counter(
        row["signup_month"] for row in reference_marts["ltv_cohorts"]
    )
    assert len(cohort_months) > 12 and max(cohort_months.values()) > 12
    assert any(row["active_users"] == 0 for row in reference_marts["ltv_cohorts"])

    by_channel = reference_marts["ltv_by_channel"]
    assert "unknown" in {row["acquisition_channel"] for row in by_channel}
    assert all(row["cac"] is None for row in by_channel)
    assert all(row["ltv_to_cac"] is None for row in by_channel)

    user_rfm = reference_marts["user_rfm"]
    orders_lifetime = {
        row["user_id"]: row["orders_lifetime"] for row in reference_marts["user_ltv"]
    }
    assert any(row["frequency"] == 0 for row in user_rfm)
    assert any(row["frequency"] > 0 for row in user_rfm)
    assert any(
        orders_lifetime[row["user_id"]] > row["frequency"] + 1 for row in user_rfm
    )

    audit = reference_marts["order_audit"]
    assert {row["exclusion_reason"] for row in audit} == {None, *EXCLUSION_REASONS}
    assert any(row["source_row_count"] > 1 for row in audit)
    assert any(row["currency_code"] != "USD" for row in audit)
    assert any(row["amount_usd"] is None for row in audit)
