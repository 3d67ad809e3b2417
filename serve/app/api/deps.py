"""Dependencies of the routes: the current snapshot, the build runner, the token."""

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from serve.app.core.builds import BuildRunner
from serve.app.core.config import Settings
from serve.app.core.snapshot import Snapshot, SnapshotStore

bearer = HTTPBearer(auto_error=False)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> SnapshotStore:
    return request.app.state.store


def get_snapshot(store: Annotated[SnapshotStore, Depends(get_store)]) -> Snapshot:
    """The snapshot of this request (503 before the first published build). Taken
    once: a swap during the request does not mix two builds."""
    snapshot = store.current
    if snapshot is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"No published marts to serve yet ({store.last_error}).",
        )
    return snapshot


def get_runner(request: Request) -> BuildRunner:
    return request.app.state.runner


def require_token(
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """The bearer token of the settings (LTV_SERVE_TOKEN); none set: no builds."""
    if settings.ltv_serve_token is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "Builds over HTTP are off: set LTV_SERVE_TOKEN to turn them on.",
        )
    expected = settings.ltv_serve_token.get_secret_value().encode()
    given = (credentials.credentials if credentials else "").encode()
    if not secrets.compare_digest(given, expected):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "A valid bearer token is required.",
            headers={"WWW-Authenticate": "Bearer"},
        )


SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]
StoreDep = Annotated[SnapshotStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RunnerDep = Annotated[BuildRunner, Depends(get_runner)]
