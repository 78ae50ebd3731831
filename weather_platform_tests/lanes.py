"""Resources of a test or benchmark lane: the stack's services, in a warehouse schema of the lane's own."""

from __future__ import annotations

from weather_platform.resources import PostgresResource
from weather_platform.settings import Settings


def postgres_in(settings: Settings, schema: str) -> PostgresResource:
    """The warehouse resource working in `schema` (already migrated by the lane's set-up)."""
    return PostgresResource(
        host=settings.postgres_host,
        port=settings.postgres_port,
        user=settings.postgres_user,
        password=settings.secret("postgres_password"),
        dbname=settings.postgres_db,
        search_path=schema,
    )
