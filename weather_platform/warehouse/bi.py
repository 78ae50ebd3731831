"""Connection files for BI tools: what they need to reach gold as the read-only role, and never a password."""

from __future__ import annotations

from typing import Any

from weather_platform.settings import Settings

# What an analyst imports: the analyst views (docs/DESIGN.md §4.5) first, then the unrounded tables.
BI_RELATIONS = ("v_weather_latest", "v_weather_daily_trend", "v_weather_hourly", "gold_weather_daily_aggregates")


def powerbi_data_source(settings: Settings) -> dict[str, Any]:
    """A Power BI Desktop data source file (.pbids) for the warehouse's PostgreSQL database.

    Power BI opens it at Get Data → PostgreSQL with the server and database filled in and asks for the credentials
    itself (Database: `weather_reader` and its password), which a .pbids file never holds.
    """
    return {
        "version": "0.1",
        "connections": [
            {
                "details": {
                    "protocol": "postgresql",
                    "address": {
                        "server": f"{settings.postgres_host}:{settings.postgres_port}",
                        "database": settings.postgres_db,
                    },
                },
                "options": {},
                "mode": "Import",
            }
        ],
    }
