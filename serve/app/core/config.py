"""Settings from the environment (pydantic-settings), named as profiles.yml names them.

The service reads the marts the profile's target builds: DBT_TARGET, DBT_DUCKDB_PATH,
DBT_SCHEMA and libpq's PG* mean what they mean to dbt. Its own settings start with
LTV_SERVE_.
"""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parents[3]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    # The warehouse, as profiles.yml.example reads it.
    dbt_target: Literal["duckdb", "postgres"] = "duckdb"
    dbt_duckdb_path: str = "warehouse.duckdb"
    dbt_schema: str = "ltv"
    pghost: str = "127.0.0.1"
    pgport: int = 5432
    pguser: str = "postgres"
    pgpassword: SecretStr = SecretStr("")
    pgdatabase: str = "postgres"
    # The vars of the builds that POST /calculate starts (the Makefile's DBT_VARS).
    dbt_vars: str = "{}"

    # PostgreSQL reads: the login role (default PGUSER) and the role each session
    # switches to before it reads (the project's analyst role, which may read the
    # marts and nothing else; empty: stay the login role). Sessions are read-only.
    ltv_serve_pguser: str | None = None
    ltv_serve_pgpassword: SecretStr | None = None
    ltv_serve_read_role: str = "ltv_analyst"

    ltv_serve_host: str = "127.0.0.1"
    ltv_serve_port: int = 8000
    # The bearer token of POST /calculate; unset, builds cannot be started over HTTP.
    ltv_serve_token: SecretStr | None = None
    # How often the service looks for a newer published build (seconds).
    ltv_serve_reload_seconds: float = 5.0

    @property
    def duckdb_path(self) -> Path:
        """DBT_DUCKDB_PATH; relative to the project directory, as dbt resolves it."""
        path = Path(self.dbt_duckdb_path)
        return path if path.is_absolute() else PROJECT_DIR / path

    def postgres_read_connection(self) -> dict:
        """psycopg2.connect keywords of a reading session."""
        password = self.ltv_serve_pgpassword or self.pgpassword
        return {
            "host": self.pghost,
            "port": self.pgport,
            "user": self.ltv_serve_pguser or self.pguser,
            "password": password.get_secret_value(),
            "dbname": self.pgdatabase,
            "options": "-c default_transaction_read_only=on",
        }


@lru_cache
def get_settings() -> Settings:
    return Settings()
