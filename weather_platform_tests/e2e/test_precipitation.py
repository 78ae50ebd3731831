"""Precipitation is an accumulation: polled every 15 minutes of a rainy day, gold holds each hour's rain once."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest

from weather_platform.assets.bronze import kafka_drain, weather_raw
from weather_platform.assets.gold import GOLD_ASSETS
from weather_platform.assets.silver import silver
from weather_platform.sources.openweather import OpenWeatherClient
from weather_platform.sources.simulator import CITIES, City, HourlyPrecipitation, hourly_precipitation
from weather_platform.streaming.producer import build_producer, ingest_round
from weather_platform_tests.e2e.conftest import Pipeline

pytestmark = pytest.mark.e2e
POLL_MINUTES = 15


def _rainy_day() -> tuple[City, date, list[HourlyPrecipitation]]:
    """The first (city, day) of March 2026 in the simulator's climate with rain in 6 to 20 hours and no snow."""
    for offset in range(31):
        day = date(2026, 3, 1) + timedelta(days=offset)
        midnight = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
        for city in CITIES:
            hours = [hourly_precipitation(city, midnight + 3600 * h) for h in range(24)]
            kinds = {h.kind for h in hours}
            if "Snow" not in kinds and 6 <= sum(h.kind == "Rain" for h in hours) <= 20:
                return city, day, hours
    raise AssertionError("the simulator has no rainy day in March 2026")


def test_gold_precipitation_equals_the_simulators_hourly_accumulations(pipeline: Pipeline) -> None:
    city, day, hours = _rainy_day()
    query = f"{city.name},{city.country}"
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    producer = build_producer(pipeline.settings.kafka_bootstrap_servers)
    with OpenWeatherClient(pipeline.simulator.base_url, "e2e-key", source="simulator") as client:
        for step in range(24 * 60 // POLL_MINUTES):
            pipeline.set_time(start + timedelta(minutes=POLL_MINUTES * step))
            report = ingest_round(client, producer, pipeline.settings.kafka_topic, [query])
            assert report.sent == 1, report
    producer.close()

    result = dg.materialize(
        [kafka_drain, weather_raw, silver, *GOLD_ASSETS],
        partition_key=day.isoformat(),
        resources=pipeline.resources,
        instance=pipeline.instance,
    )
    assert result.success
    with pipeline.resources["postgres"].connect() as conn:
        hourly = conn.execute(
            "SELECT hour, total_rain_mm, total_snow_mm, observation_count, hours_observed "
            "FROM gold_weather_hourly_aggregates WHERE city = %s AND date = %s ORDER BY hour",
            (city.name, day),
        ).fetchall()
        daily = conn.execute(
            "SELECT total_rain_mm, total_snow_mm, observation_count, hours_observed, coverage_share "
            "FROM gold_weather_daily_aggregates WHERE city = %s AND date = %s",
            (city.name, day),
        ).fetchone()
        shown = conn.execute(
            "SELECT total_rain_mm FROM v_weather_daily_trend WHERE city = %s AND date = %s", (city.name, day)
        ).fetchone()
        summed_readings = conn.execute(
            "SELECT sum(rain_1h) FROM gold_weather_detailed WHERE city = %s AND date = %s", (city.name, day)
        ).fetchone()

    accumulations = [h.amount_mm for h in hours]
    # Each hour: exactly the simulator's accumulation, from four readings that each report it.
    assert hourly == [(h, accumulations[h], 0.0, 4, 1) for h in range(24)]
    total = math.fsum(accumulations)
    assert daily is not None and daily[1:] == (0.0, 96, 24, 1.0)
    assert daily[0] == pytest.approx(total, abs=1e-9)  # a sum of 24 doubles: exact up to the order of addition
    assert shown is not None and float(shown[0]) == round(total, 1)
    # What the old aggregate reported: every reading summed, nearly four times the rain (00:00 reports the day
    # before's last hour; hour 23's fourth reading is the next day's midnight).
    before = hourly_precipitation(city, int(start.timestamp()) - 3600)
    summed = (before.amount_mm if before.kind == "Rain" else 0.0) + 4 * math.fsum(accumulations) - accumulations[23]
    assert summed_readings is not None and summed_readings[0] == pytest.approx(summed, abs=1e-9)
