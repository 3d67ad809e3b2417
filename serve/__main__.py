"""`python -m serve`: the service on LTV_SERVE_HOST:LTV_SERVE_PORT (uvicorn)."""

import uvicorn

from serve.app.core.config import get_settings
from serve.app.main import create_app

if __name__ == "__main__":
    settings = get_settings()
    uvicorn.run(create_app(settings), host=settings.ltv_serve_host,
                port=settings.ltv_serve_port)  # fmt: skip
