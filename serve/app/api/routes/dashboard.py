"""The dashboard page at /, its script, plotly.js (from the plotly wheel: no CDN),
the chart figures it draws (GET /api/v1/ltv/charts) and the CLV backtest's verdict
(GET /api/v1/ltv/clv-verdict)."""

import json
from pathlib import Path

import plotly
from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from serve.app import charts, queries, verdict
from serve.app.api.deps import SnapshotDep
from serve.app.models import Verdict

STATIC = Path(__file__).resolve().parents[2] / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
# The query of each mart a chart reads.
MART_QUERIES = {
    "ltv_distribution": (queries.DISTRIBUTION, [None, None]),
    "ltv_cohorts": (queries.COHORTS, []),
    "ltv_by_channel": (queries.CHANNELS, []),
    "ltv_segments": (queries.SEGMENTS, []),
    "clv_backtest": (queries.CLV_BACKTEST, []),
    # Optional: not published by older builds (no rows then).
    queries.BACKTEST_DECILES_TABLE: (queries.BACKTEST_DECILES, []),
}

page_router = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/ltv", tags=["dashboard"])


@page_router.get("/")
def dashboard():
    return FileResponse(STATIC / "index.html")


@page_router.get("/static/{name}")
def static_file(name: str):
    """The page's own files, and plotly.js."""
    if name == "plotly.min.js":
        return FileResponse(PLOTLY_JS, media_type="text/javascript")
    files = {path.name: path for path in STATIC.iterdir()}
    if name not in files:
        raise HTTPException(404)
    return FileResponse(files[name])


@router.get("/charts", response_model=dict[str, dict])
def chart_figures(snapshot: SnapshotDep):
    """Every chart of the dashboard as a plotly figure (data and layout)."""
    figures = {}
    for name, (mart, spec) in charts.CHARTS.items():
        sql, params = MART_QUERIES[mart]
        rows = snapshot.rows_if_present(mart, sql, params) or []
        figures[name] = json.loads(spec(rows).to_json())
    return figures


@router.get("/clv-verdict", response_model=Verdict)
def clv_verdict(snapshot: SnapshotDep):
    """Does the CLV model beat the naive baseline in the backtest? In words, and per
    measure (status missing: marts not published yet; empty: no calibration fit)."""
    return verdict.verdict(snapshot.rows_if_present(
        queries.BACKTEST_MEASURES_TABLE, queries.BACKTEST_MEASURES
    ))  # fmt: skip
