"""An isolated pipeline per test: its own topics, buckets and consumer group on the real services, resources
pointing at them, a simulator whose clock the test sets, and a throw-away Dagster instance."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import pytest

from weather_platform.connections import s3_client
from weather_platform.settings import Settings
from weather_platform.sources.simulator import SimulatorServer
from weather_platform_tests.lanes import Lane


@dataclass
class Pipeline:
    settings: Settings
    resources: dict[str, Any]
    simulator: SimulatorServer
    clock: list[datetime]  # the simulator's "now": tests move it
    instance: dg.DagsterInstance
    s3: Any
    lane: Lane  # its consumer group and warehouse schema

    def set_time(self, moment: datetime) -> None:
        self.clock[0] = moment


def simulator_endpoints(simulator: SimulatorServer) -> dict[str, str]:
    """The settings that point the weather APIs at `simulator` (it answers OpenWeather and Open-Meteo)."""
    url = simulator.url
    return {
        "weather_api_base_url": simulator.base_url,
        "open_meteo_forecast_url": url,
        "open_meteo_archive_url": url,
        "open_meteo_geocoding_url": url,
    }


@pytest.fixture
def pipeline(settings: Settings, unique: str) -> Iterator[Pipeline]:
    clock = [datetime(2026, 3, 14, 12, 0, tzinfo=UTC)]
    lane = Lane.named(settings, "e2e", unique, weather_cities="London,GB;Paris,FR;Tokyo,JP")
    with (
        lane.provisioned(),
        SimulatorServer(clock=lambda: clock[0]) as simulator,
        dg.instance_for_test() as instance,
    ):
        isolated = lane.settings.model_copy(update=simulator_endpoints(simulator))
        yield Pipeline(isolated, lane.resources(isolated), simulator, clock, instance, s3_client(settings), lane)
