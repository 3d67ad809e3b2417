"""The user list and one user."""

from datetime import date
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, HTTPException, Query, status

from serve.app import queries
from serve.app.api.deps import SnapshotDep
from serve.app.models import Horizon, PageSize, Segment, SortOrder, UserDetail, UserPage

router = APIRouter(prefix="/ltv/users", tags=["users"])

# Any column of user_ltv: a Literal, so that anything else is a 422 naming sort_by.
SortColumn = Literal[queries.USER_LTV_COLUMNS]


@router.get("", response_model=UserPage)
def user_list(
    snapshot: SnapshotDep,
    segment: Segment | None = None,
    channel: str | None = Query(None, description="acquisition_channel, as in user_ltv."),
    signup_from: date | None = Query(None, description="First signup date (inclusive)."),
    signup_to: date | None = Query(None, description="Last signup date (inclusive)."),
    revenue_horizon: Horizon = Query("lifetime", description="Horizon of the revenue range."),
    min_revenue: Decimal | None = Query(None, description="Inclusive."),
    max_revenue: Decimal | None = Query(None, description="Inclusive."),
    min_orders: int | None = Query(None, ge=0, description="Lifetime revenue orders."),
    sort_by: SortColumn = "revenue_lifetime",
    sort_order: SortOrder = "desc",
    page: int = Query(1, ge=1),
    page_size: PageSize = 50,
):
    """user_ltv rows the filters keep, sorted (nulls largest, ties by user_id
    ascending), one page, with how many users the filters keep."""
    where, values = queries.user_filter({
        "segment": segment, "channel": channel, "signup_from": signup_from,
        "signup_to": signup_to, "min_orders": min_orders,
        "revenue_horizon": revenue_horizon, "min_revenue": min_revenue,
        "max_revenue": max_revenue,
    })  # fmt: skip
    total = snapshot.scalar(queries.user_count(where), values)
    items = snapshot.user_page(where, values, sort_by, sort_order == "desc",
                               page_size, (page - 1) * page_size)
    return {"total": total, "page": page, "page_size": page_size, "items": items}


@router.get("/{user_id}", response_model=UserDetail)
def one_user(snapshot: SnapshotDep, user_id: int):
    """One user_ltv row, with its user_clv columns when scored; 404 when unknown."""
    rows = snapshot.rows(queries.ONE_USER, [user_id])
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No user {user_id}.")
    return rows[0]
