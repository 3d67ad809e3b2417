"""`python -m serve` (make serve): the service on LTV_SERVE_HOST:LTV_SERVE_PORT.

When the warehouse holds no published marts yet (a fresh checkout), it first runs
the build POST /calculate would run (DBT_VARS; the demo's in `make serve`), so that
the dashboard has something to show.
"""

import subprocess
import sys

import uvicorn

from serve.app.core.builds import build_env, dbt_build_command
from serve.app.core.config import PROJECT_DIR, get_settings
from serve.app.core.snapshot import NoPublishedBuild, source_for
from serve.app.main import create_app


def has_published_marts(settings) -> bool:
    source = source_for(settings)
    try:
        version = source.version()
        return version is not None and source.load(version) is not None
    except NoPublishedBuild:
        return False


def main() -> None:
    settings = get_settings()
    if not has_published_marts(settings):
        print("No published marts yet: building them first.", file=sys.stderr)
        subprocess.run(dbt_build_command(settings), cwd=PROJECT_DIR,
                       env=build_env(settings), check=True)  # fmt: skip
    print(f"LTV dashboard: http://{settings.ltv_serve_host}:{settings.ltv_serve_port}/",
          file=sys.stderr)  # fmt: skip
    uvicorn.run(create_app(settings), host=settings.ltv_serve_host,
                port=settings.ltv_serve_port)  # fmt: skip


if __name__ == "__main__":
    main()
