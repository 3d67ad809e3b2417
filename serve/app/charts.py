"""The charts of the dashboard and of the offline report, one spec each (plotly),
from the marts' rows.

Defined once: the live page (GET /api/v1/ltv/charts, drawn by plotly.js) and the
offline report (scripts/render_report.py) build the same figures from the same rows.
"""

import plotly.graph_objects as go

# The horizon the dashboard shows: 12 months, the usual LTV horizon.
HORIZON = "12m"
HORIZON_TITLES = {"3m": "3-month", "6m": "6-month", "12m": "12-month",
                  "lifetime": "Lifetime"}  # fmt: skip
PREDICTOR_TITLES = {"model": "model (BG/NBD + Gamma-Gamma)", "baseline": "naive baseline"}


def distribution(rows: list, horizon: str = HORIZON) -> go.Figure:
    """Users per revenue bucket of one horizon (eligible users)."""
    rows = [r for r in rows if r["horizon"] == horizon]
    figure = go.Figure(go.Bar(
        x=[r["bucket_label"] for r in rows], y=[r["users"] for r in rows],
        customdata=[float(r["revenue"]) for r in rows],
        hovertemplate="%{x}: %{y} users, $%{customdata:,.0f}<extra></extra>",
    ))  # fmt: skip
    return titled(figure, f"{HORIZON_TITLES[horizon]} LTV distribution",
                  "revenue bucket", "users")  # fmt: skip


def cohorts(rows: list) -> go.Figure:
    """Cumulative LTV per signup month (rows) and month of life (columns)."""
    months = sorted({r["signup_month"] for r in rows})
    ages = sorted({r["months_since_signup"] for r in rows})
    cell = {(r["signup_month"], r["months_since_signup"]): r["ltv_cumulative"] for r in rows}
    z = [[none_or_float(cell.get((m, a))) for a in ages] for m in months]
    figure = go.Figure(go.Heatmap(
        x=ages, y=[m.isoformat()[:7] for m in months], z=z, colorscale="Blues",
        hovertemplate="cohort %{y}, month %{x}: $%{z:,.2f}<extra></extra>",
    ))  # fmt: skip
    return titled(figure, "Cumulative LTV by signup cohort", "months since signup",
                  "signup month")  # fmt: skip


def channels(rows: list) -> go.Figure:
    """12-month mean LTV against CAC per acquisition channel, with the recommended
    maximum CAC (mean LTV over the target ratio) as a marker."""
    rows = [r for r in rows if r["horizon"] == HORIZON]
    names = [r["acquisition_channel"] for r in rows]
    figure = go.Figure([
        go.Bar(name="12-month LTV", x=names, y=[none_or_float(r["ltv_mean"]) for r in rows]),
        go.Bar(name="CAC", x=names, y=[none_or_float(r["cac"]) for r in rows],
               customdata=[none_or_float(r["ltv_to_cac"]) for r in rows],
               hovertemplate="%{x}: CAC $%{y:,.2f}, LTV:CAC %{customdata:.1f}"
                             "<extra></extra>"),
        go.Scatter(name="recommended max CAC", x=names, mode="markers",
                   y=[none_or_float(r["recommended_max_cac"]) for r in rows],
                   marker={"symbol": "line-ew-open", "size": 28, "line": {"width": 3},
                           "color": "#1f2933"}),
    ])  # fmt: skip
    figure.update_layout(barmode="group")
    return titled(figure, "LTV vs CAC by channel", "channel", "USD")


def segments(rows: list) -> go.Figure:
    """Share of users and of lifetime revenue per segment."""
    names = [r["ltv_segment"] for r in rows]
    figure = go.Figure([
        go.Bar(name="users", x=names, y=[none_or_float(r["share_of_users"]) for r in rows]),
        go.Bar(name="revenue", x=names,
               y=[none_or_float(r["share_of_revenue"]) for r in rows]),
    ])  # fmt: skip
    figure.update_layout(barmode="group", yaxis_tickformat=".0%")
    return titled(figure, "Segments: share of users and revenue", "segment", "share")


def clv_backtest(rows: list) -> go.Figure:
    """Predicted against actual repeat purchases in the holdout, per frequency bin."""
    names = [r["frequency_bin"] for r in rows]
    figure = go.Figure([
        go.Bar(name="actual", x=names, y=[r["actual_repeat_purchases"] for r in rows]),
        go.Bar(name="predicted (BG/NBD)", x=names,
               y=[none_or_float(r["expected_repeat_purchases"]) for r in rows]),
    ])  # fmt: skip
    figure.update_layout(barmode="group")
    return titled(figure, "Predicted CLV: backtest of repeat purchases",
                  "repeat purchases before the holdout", "repeat purchases")  # fmt: skip


def backtest_calibration(rows: list) -> go.Figure:
    """Predicted against actual holdout revenue per decile of predicted revenue
    (1 = highest), for the model and the naive baseline; on the diagonal, a decile's
    prediction was right. Without rows, a note (no backtest published or fitted)."""
    figure = go.Figure()
    largest = 0.0
    for predictor in ("model", "baseline"):
        own = sorted((r for r in rows if r["predictor"] == predictor),
                     key=lambda r: r["decile"])  # fmt: skip
        if not own:
            continue
        predicted = [none_or_float(r["predicted_revenue"]) for r in own]
        actual = [none_or_float(r["actual_revenue"]) for r in own]
        largest = max([largest, *(v for v in predicted + actual if v is not None)])
        figure.add_trace(go.Scatter(
            name=PREDICTOR_TITLES[predictor], x=predicted, y=actual,
            mode="markers+lines", customdata=[r["decile"] for r in own],
            hovertemplate="decile %{customdata}: predicted $%{x:,.0f}, "
                          "actual $%{y:,.0f}<extra></extra>",
        ))  # fmt: skip
    if figure.data:
        figure.add_trace(go.Scatter(
            name="perfect calibration", x=[0, largest], y=[0, largest], mode="lines",
            line={"dash": "dot", "color": "#9aa5b1"}, hoverinfo="skip",
        ))  # fmt: skip
    else:
        figure.add_annotation(text="No backtest deciles: run make fit-clv",
                              showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    return titled(figure, "Backtest: predicted vs actual revenue per decile",
                  "predicted holdout revenue (USD)", "actual holdout revenue (USD)")


def none_or_float(value):
    return None if value is None else float(value)


def titled(figure: go.Figure, title: str, x: str, y: str) -> go.Figure:
    figure.update_layout(
        title=title, xaxis_title=x, yaxis_title=y, template="plotly_white",
        margin={"l": 60, "r": 20, "t": 50, "b": 50}, height=360,
        xaxis_automargin=True, yaxis_automargin=True,
    )  # fmt: skip
    return figure


# name -> (the mart it reads, its spec)
CHARTS = {
    "distribution": ("ltv_distribution", distribution),
    "cohorts": ("ltv_cohorts", cohorts),
    "channels": ("ltv_by_channel", channels),
    "segments": ("ltv_segments", segments),
    "clv_backtest": ("clv_backtest", clv_backtest),
    "backtest_calibration": ("clv_backtest_deciles", backtest_calibration),
}
