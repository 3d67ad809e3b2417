"""The application: the API under /api/v1 and the dashboard at /.

`python -m serve` (make serve) runs it with uvicorn; tests build it with create_app.
"""

from contextlib import asynccontextmanager

from fastapi import FastAPI

from serve.app.api.main import api_router
from serve.app.api.routes.dashboard import page_router
from serve.app.core.builds import BuildRunner, build_env, dbt_build_command
from serve.app.core.config import Settings, get_settings
from serve.app.core.snapshot import SnapshotStore, source_for


def create_app(settings: Settings | None = None, build_command: list | None = None) -> FastAPI:
    """The service over the marts the settings name. `build_command` replaces
    `dbt build` for POST /calculate (tests)."""
    settings = settings or get_settings()
    store = SnapshotStore(source_for(settings), settings.ltv_serve_reload_seconds)
    runner = BuildRunner(
        build_command or dbt_build_command(settings),
        build_env(settings),
        on_finished=lambda job: store.request_refresh(),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        store.start()
        yield
        store.stop()

    app = FastAPI(
        title="LTV service",
        description="The old LTV API over the published marts (LTV_SPEC.md).",
        version="1.0.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.runner = runner
    app.include_router(api_router, prefix="/api/v1")
    app.include_router(page_router)
    return app
