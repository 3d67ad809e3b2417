"""Summary, distribution, the dashboard's marts and health, on both engines: the
service's numbers are the marts' numbers."""

from datetime import date
from decimal import Decimal

import pytest

API = "/api/v1/ltv"
HORIZONS = ("3m", "6m", "12m", "lifetime")


def as_json(row: dict) -> dict:
    return {
        column: value.isoformat() if isinstance(value, date)
        else float(value) if isinstance(value, Decimal) else value
        for column, value in row.items()
    }  # fmt: skip


def same_rows(got: list, want: list) -> bool:
    """Equal rows, floats to 1e-12 relative (PostgreSQL's text of a double)."""
    return len(got) == len(want) and all(
        g.keys() == w.keys() and all(
            g[k] == pytest.approx(w[k], rel=1e-12) if isinstance(w[k], float) else g[k] == w[k]
            for k in w
        )
        for g, w in zip(got, want)
    )  # fmt: skip


@pytest.mark.parametrize(
    "path, mart, key",
    [
        ("summary", "ltv_summary", lambda r: HORIZONS.index(r["horizon"])),
        ("distribution", "ltv_distribution",
         lambda r: (HORIZONS.index(r["horizon"]), r["bucket_order"])),
        ("segments", "ltv_segments", lambda r: r["segment_order"]),
        ("cohorts", "ltv_cohorts", lambda r: (r["signup_month"], r["months_since_signup"])),
        ("channels", "ltv_by_channel",
         lambda r: (r["acquisition_channel"], HORIZONS.index(r["horizon"]))),
        ("clv-backtest", "clv_backtest", lambda r: r["bin_order"]),
        ("clv-backtest-measures", "clv_backtest_measures",
         lambda r: r["predictor"] == "baseline"),
        ("clv-backtest-deciles", "clv_backtest_deciles",
         lambda r: (r["predictor"] == "baseline", r["decile"])),
    ],
)  # fmt: skip
def test_each_mart_is_served_whole_and_in_order(client, demo, path, mart, key):
    response = client.get(f"{API}/{path}")
    assert response.status_code == 200
    want = [as_json(row) for row in sorted(demo.mart(mart), key=key)]
    assert want and same_rows(response.json(), want)


def test_the_distribution_of_one_horizon(client, demo):
    for horizon in HORIZONS:
        rows = client.get(f"{API}/distribution", params={"horizon": horizon}).json()
        assert {row["horizon"] for row in rows} == {horizon}
        assert len(rows) == sum(r["horizon"] == horizon for r in demo.mart("ltv_distribution"))
    response = client.get(f"{API}/distribution", params={"horizon": "2m"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "horizon"]


def test_health_names_the_published_build(client):
    """When it finished and whether the last build passed come from ltv_builds,
    which the demo's build wrote; the as-of date and the newest order from the
    marts."""
    body = client.get(f"{API}/health").json()
    assert body["as_of_date"] == "2026-07-01"
    assert body["status"] == "ok" and body["snapshot_error"] is None
    assert body["published_at"] is not None and body["last_build_passed"] is True
    assert body["freshness"]["newest_order_date"] is not None
    assert body["freshness"]["status"] in ("pass", "warn", "error")


def test_the_docs_describe_every_route(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("summary", "distribution", "users", "users/{user_id}", "health",
                 "calculate", "calculate/{job_id}"):  # fmt: skip
        assert f"{API}/{path}" in paths, path
    assert client.get("/docs").status_code == 200
