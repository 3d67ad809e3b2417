"""Request and response models of the API (pydantic), one module as in FastAPI's
template. Field names are the marts' column names; money is a JSON number (the
marts' decimals, for display and charts: the marts keep the exact values)."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

Horizon = Literal["3m", "6m", "12m", "lifetime"]
Segment = Literal["VIP", "High", "Medium", "Low", "New"]
SortOrder = Literal["asc", "desc"]
PAGE_SIZES = (25, 50, 100)


def page_size_of_the_list(value: int) -> int:
    if value not in PAGE_SIZES:
        raise ValueError(f"page_size must be one of {PAGE_SIZES}")
    return value


# A query's text is no int of a Literal: an int, then checked against the sizes.
PageSize = Annotated[int, AfterValidator(page_size_of_the_list)]


class SummaryRow(BaseModel):
    """A row of ltv_summary: one horizon."""

    horizon: Horizon
    horizon_months: int | None
    as_of_date: date
    eligible_users: int
    active_users: int
    active_share: float | None
    total_revenue: float | None
    total_orders: int
    ltv_mean: float | None
    ltv_median: float | None
    ltv_p95: float | None
    aov: float | None
    orders_per_user: float | None
    recommended_max_cac: float | None


class DistributionRow(BaseModel):
    """A row of ltv_distribution: one horizon's revenue bucket."""

    horizon: Horizon
    bucket_order: int
    bucket_label: str
    lower_bound: float
    upper_bound: float | None
    as_of_date: date
    users: int
    share_of_users: float | None
    revenue: float
    share_of_revenue: float | None


class SegmentRow(BaseModel):
    """A row of ltv_segments."""

    ltv_segment: Segment
    segment_order: int
    as_of_date: date
    users: int
    share_of_users: float | None
    revenue_lifetime: float
    share_of_revenue: float | None
    ltv_mean_lifetime: float | None
    min_revenue_lifetime: float | None
    max_revenue_lifetime: float | None


class CohortRow(BaseModel):
    """A row of ltv_cohorts: one signup month's month of life."""

    signup_month: date
    months_since_signup: int
    as_of_date: date
    cohort_users: int
    active_users: int
    active_share: float | None
    revenue_in_month: float
    revenue_cumulative: float
    ltv_cumulative: float | None


class ChannelRow(BaseModel):
    """A row of ltv_by_channel: one channel's horizon."""

    acquisition_channel: str
    horizon: Horizon
    horizon_months: int | None
    as_of_date: date
    eligible_users: int
    active_users: int
    active_share: float | None
    total_revenue: float | None
    ltv_mean: float | None
    ltv_median: float | None
    cac: float | None
    ltv_to_cac: float | None
    recommended_max_cac: float | None


class BacktestRow(BaseModel):
    """A row of clv_backtest: predicted against actual repeat purchases."""

    frequency_bin: str
    bin_order: int
    customers: int
    actual_repeat_purchases: int
    expected_repeat_purchases: float | None
    calibration_end_date: date
    as_of_date: date


class VerdictMeasure(BaseModel):
    """One measure of clv_backtest_measures, the model's value against the baseline's."""

    measure: str
    label: str
    better: Literal["lower", "lower_absolute", "higher"]
    model: float | None
    baseline: float | None
    model_wins: bool | None = Field(description="Null when a value is missing.")


class Verdict(BaseModel):
    """Does the CLV model beat the naive baseline in the backtest (serve/app/verdict.py)?"""

    status: Literal["missing", "empty", "incomplete", "ok"] = Field(
        description="missing: marts not published yet; empty: no calibration fit."
    )
    text: str
    wins: int | None
    compared: int
    measures: list[VerdictMeasure]


class BacktestMeasuresRow(BaseModel):
    """A row of clv_backtest_measures: one predictor's errors in the holdout."""

    predictor: str
    calibration_end_date: date
    holdout_days: int
    customers: int
    predicted_purchases: float | None
    actual_purchases: float | None
    purchases_relative_error: float | None
    predicted_revenue: float | None
    actual_revenue: float | None
    revenue_relative_error: float | None
    purchases_mae: float | None
    purchases_rmse: float | None
    revenue_decile_mape: float | None
    normalized_gini: float | None
    as_of_date: date


class BacktestDecileRow(BaseModel):
    """A row of clv_backtest_deciles: one predictor's decile of predicted revenue."""

    predictor: str
    decile: int
    customers: int
    predicted_revenue: float | None
    actual_revenue: float | None
    as_of_date: date


class UserLtv(BaseModel):
    """A row of user_ltv."""

    user_id: int
    signup_date: date
    signup_month: date
    acquisition_channel: str
    as_of_date: date
    tenure_days: int
    revenue_3m: float
    revenue_6m: float
    revenue_12m: float
    revenue_lifetime: float
    orders_3m: int
    orders_6m: int
    orders_12m: int
    orders_lifetime: int
    aov_3m: float | None
    aov_6m: float | None
    aov_12m: float | None
    aov_lifetime: float | None
    is_3m_complete: bool
    is_6m_complete: bool
    is_12m_complete: bool
    first_order_date: date | None
    last_order_date: date | None
    days_since_last_order: int | None
    ltv_segment: Segment


class UserDetail(UserLtv):
    """One user: the user_ltv row, with the user's user_clv columns when scored
    (users without a revenue order, or a build without a fit, are not)."""

    is_scored: bool
    probability_alive: float | None = None
    expected_purchases_90d: float | None = None
    expected_purchases_365d: float | None = None
    expected_order_value: float | None = None
    predicted_clv_12m: float | None = None


class UserPage(BaseModel):
    """A page of the user list, and how many users its filters keep."""

    total: int = Field(description="Users the filters keep (every page).")
    page: int
    page_size: PageSize
    items: list[UserLtv]


class LastBuild(BaseModel):
    """The newest row of ltv_builds: the last build or run that reached its end."""

    invocation_id: str
    command: str
    started_at: datetime | None
    finished_at: datetime | None
    as_of_date: date | None
    is_published: bool
    detail: str | None


class Freshness(BaseModel):
    """How recent the sources were when the published build read them."""

    newest_order_date: date | None
    days_since_newest_order: int | None
    warn_after_days: int
    error_after_days: int
    status: Literal["pass", "warn", "error", "unknown"]


class Health(BaseModel):
    """What the service serves, and how the builds went."""

    status: Literal["ok", "degraded", "unavailable"]
    as_of_date: date | None = Field(description="The published build's as-of date.")
    published_at: datetime | None = Field(
        description="When the published build finished (ltv_builds; null if unknown)."
    )
    last_build_passed: bool | None = Field(
        description="Whether the last build published (null: unknown)."
    )
    last_build: LastBuild | None
    freshness: Freshness
    snapshot_loaded_at: datetime | None
    snapshot_error: str | None


class JobAccepted(BaseModel):
    job_id: str
    status_url: str


class Job(BaseModel):
    """A build started by POST /calculate."""

    job_id: str
    state: Literal["running", "succeeded", "failed"]
    started_at: datetime
    finished_at: datetime | None
    nodes_done: int
    nodes_total: int | None
    published: bool | None = Field(
        description="Whether the build published its marts (null while it runs)."
    )
    message: str | None
