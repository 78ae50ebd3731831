"""The one Dagster `Definitions` of the platform: assets, checks, resources, jobs, schedules and sensors."""

from __future__ import annotations

import dagster as dg

from weather_platform.assets.bronze import weather_raw
from weather_platform.assets.ingestion import weather_events
from weather_platform.resources import build_resources
from weather_platform.settings import load_settings

defs = dg.Definitions(
    assets=[weather_events, weather_raw],
    resources=build_resources(load_settings()),
)
