"""The marts' aggregates: summary and distribution, and what the dashboard draws."""

from fastapi import APIRouter, Query

from serve.app import queries
from serve.app.api.deps import SnapshotDep
from serve.app.models import (
    BacktestDecileRow,
    BacktestMeasuresRow,
    BacktestRow,
    ChannelRow,
    CohortRow,
    DistributionRow,
    Horizon,
    SegmentRow,
    SummaryRow,
)

router = APIRouter(prefix="/ltv", tags=["ltv"])


@router.get("/summary", response_model=list[SummaryRow])
def summary(snapshot: SnapshotDep):
    """ltv_summary: one row per horizon."""
    return snapshot.rows(queries.SUMMARY)


@router.get("/distribution", response_model=list[DistributionRow])
def distribution(
    snapshot: SnapshotDep,
    horizon: Horizon | None = Query(None, description="One horizon; all without."),
):
    """ltv_distribution: users and revenue per revenue bucket."""
    return snapshot.rows(queries.DISTRIBUTION, [horizon, horizon])


@router.get("/segments", response_model=list[SegmentRow])
def segments(snapshot: SnapshotDep):
    """ltv_segments: VIP, High, Medium, Low, New."""
    return snapshot.rows(queries.SEGMENTS)


@router.get("/cohorts", response_model=list[CohortRow])
def cohorts(snapshot: SnapshotDep):
    """ltv_cohorts: cumulative LTV per signup month and month of life."""
    return snapshot.rows(queries.COHORTS)


@router.get("/channels", response_model=list[ChannelRow])
def channels(snapshot: SnapshotDep):
    """ltv_by_channel: LTV against CAC per acquisition channel and horizon."""
    return snapshot.rows(queries.CHANNELS)


@router.get("/clv-backtest", response_model=list[BacktestRow])
def clv_backtest(snapshot: SnapshotDep):
    """clv_backtest: predicted against actual repeat purchases in the holdout."""
    return snapshot.rows(queries.CLV_BACKTEST)


@router.get("/clv-backtest-measures", response_model=list[BacktestMeasuresRow])
def clv_backtest_measures(snapshot: SnapshotDep):
    """clv_backtest_measures: the model's and the baseline's errors in the holdout
    (none before a build publishes it)."""
    return snapshot.rows_if_present(
        queries.BACKTEST_MEASURES_TABLE, queries.BACKTEST_MEASURES
    ) or []


@router.get("/clv-backtest-deciles", response_model=list[BacktestDecileRow])
def clv_backtest_deciles(snapshot: SnapshotDep):
    """clv_backtest_deciles: predicted against actual revenue per decile."""
    return snapshot.rows_if_present(
        queries.BACKTEST_DECILES_TABLE, queries.BACKTEST_DECILES
    ) or []
