"""The API router: every route under /api/v1."""

from fastapi import APIRouter

from serve.app.api.routes import calculate, dashboard, health, ltv, users

api_router = APIRouter()
for module in (ltv, users, health, calculate, dashboard):
    api_router.include_router(module.router)
