"""The gold warehouse; the password is an EnvVar, so it never appears in the UI or in run logs."""

import re

import dagster as dg
import psycopg
from pydantic import field_validator

from weather_platform.warehouse.migrations import require_current


class PostgresResource(dg.ConfigurableResource):
    host: str
    port: int = 5432
    user: str
    password: str
    dbname: str = "weather_dw"
    search_path: str | None = None  # a schema to work in instead of `public` (isolated test pipelines)

    @field_validator("search_path")
    @classmethod
    def _plain_identifier(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", value):
            raise ValueError(f"search_path must be a plain lower-case identifier, got {value!r}")
        return value

    @property
    def location(self) -> str:
        """Where the warehouse is, for messages (never credentials)."""
        return f"{self.host}:{self.port}/{self.dbname}"

    def require_current_schema(self) -> None:
        """Fail with what to run when the warehouse lacks migrations this code needs (one cheap query)."""
        with self.connect() as conn:
            require_current(conn, self.location)

    def connect(self, autocommit: bool = False) -> psycopg.Connection:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=self.dbname,
            connect_timeout=10,
            autocommit=autocommit,
            options=f"-c search_path={self.search_path}" if self.search_path else None,
        )
