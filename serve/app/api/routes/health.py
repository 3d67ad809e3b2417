"""Health: what the service serves, how the builds went, how fresh the sources are."""

from datetime import date, datetime, timezone
from functools import lru_cache

import yaml
from fastapi import APIRouter

from serve.app.api.deps import StoreDep
from serve.app.core.config import PROJECT_DIR
from serve.app.models import Freshness, Health

router = APIRouter(prefix="/ltv", tags=["health"])

LAST_BUILD = """
select invocation_id, command, started_at, finished_at, as_of_date, is_published,
    detail
from ltv_builds order by finished_at desc nulls last limit 1
"""
LAST_PUBLISHED = """
select max(finished_at) from ltv_builds where is_published
"""


@lru_cache
def freshness_thresholds() -> tuple[int, int]:
    """The sources' freshness thresholds in days: the project's vars (dbt_project.yml)."""
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    found = project["vars"]
    return found["ltv_freshness_warn_after_days"], found["ltv_freshness_error_after_days"]


def freshness(newest: date | None, today: date) -> Freshness:
    warn, error = freshness_thresholds()
    if newest is None:
        return Freshness(
            newest_order_date=None, days_since_newest_order=None,
            warn_after_days=warn, error_after_days=error, status="unknown",
        )  # fmt: skip
    days = (today - newest).days
    state = "error" if days > error else "warn" if days > warn else "pass"
    return Freshness(newest_order_date=newest, days_since_newest_order=days,
                     warn_after_days=warn, error_after_days=error, status=state)  # fmt: skip


def utc_today() -> date:
    """Dates in the marts are UTC calendar dates."""
    return datetime.now(timezone.utc).date()


@router.get("/health", response_model=Health)
def health(store: StoreDep):
    """The published build's as-of date and finish time, whether the last build
    passed (both from ltv_builds; unknown without it), the sources' freshness."""
    snapshot = store.current
    if snapshot is None:
        return Health(status="unavailable", as_of_date=None, published_at=None,
                      last_build_passed=None, last_build=None,
                      freshness=freshness(None, utc_today()),
                      snapshot_loaded_at=None, snapshot_error=store.last_error)  # fmt: skip
    last_build = published_at = None
    if snapshot.has_builds_table:
        rows = snapshot.rows(LAST_BUILD)
        last_build = rows[0] if rows else None
        published_at = snapshot.scalar(LAST_PUBLISHED)
    passed = None if last_build is None else bool(last_build["is_published"])
    return Health(
        status="ok" if passed is not False and store.last_error is None else "degraded",
        as_of_date=store.as_of_date(),
        published_at=published_at,
        last_build_passed=passed,
        last_build=last_build,
        freshness=freshness(snapshot.newest_order_date, utc_today()),
        snapshot_loaded_at=snapshot.loaded_at,
        snapshot_error=store.last_error,
    )
