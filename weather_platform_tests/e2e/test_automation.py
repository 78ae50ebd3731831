"""Schedules and sensors evaluated against the real broker and a real Dagster instance."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest

from weather_platform.assets.bronze import kafka_drain, weather_raw
from weather_platform.assets.ingestion import weather_events
from weather_platform.assets.silver import CLEANED, DAILY_AGG, silver
from weather_platform.automation.schedules import hourly_pipeline
from weather_platform.automation.sensors import LAG_THRESHOLD, kafka_lag_sensor
from weather_platform.sources.observation import Observation
from weather_platform.streaming.producer import build_producer, send_observations
from weather_platform_tests.e2e.conftest import Pipeline

pytestmark = pytest.mark.e2e


def _produce(p: Pipeline, n: int) -> None:
    producer = build_producer(p.settings.kafka_bootstrap_servers)
    observations = [
        Observation(city=f"City{i % 9}", country="XX", timestamp=f"2026-03-14T10:{i % 60:02d}:00Z", temperature=5.0)
        for i in range(n)
    ]
    assert all(d.ok for d in send_observations(producer, p.settings.kafka_topic, observations))
    producer.close()


def test_hourly_schedule_targets_the_current_utc_day() -> None:
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 3, 14, 23, 0, tzinfo=UTC))
    request = hourly_pipeline(context)
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == "2026-03-14" and request.run_key == "hourly-2026-03-14T23"


def test_kafka_lag_sensor_requests_one_drain_per_backlog(pipeline: Pipeline) -> None:
    def tick(cursor: str | None) -> dg.SensorResult | dg.SkipReason:
        with dg.build_sensor_context(
            instance=pipeline.instance, resources=pipeline.resources, cursor=cursor
        ) as context:
            return kafka_lag_sensor(context)  # type: ignore[no-any-return]

    _produce(pipeline, LAG_THRESHOLD - 1)
    assert isinstance(tick(None), dg.SkipReason)

    _produce(pipeline, 1)
    first = tick(None)
    assert isinstance(first, dg.SensorResult) and first.run_requests
    assert first.run_requests[0].run_key == f"bronze-lag-{LAG_THRESHOLD}"
    again = tick(first.cursor)
    assert isinstance(again, dg.SkipReason)  # same backlog, already requested

    assert dg.materialize([kafka_drain], resources=pipeline.resources, instance=pipeline.instance).success
    drained = tick(first.cursor)
    assert isinstance(drained, dg.SkipReason) and "lag is 0" in str(drained.skip_message)


def test_late_bronze_data_requests_silver_for_that_older_day(pipeline: Pipeline) -> None:
    defs = dg.Definitions(assets=[weather_events, kafka_drain, weather_raw, silver], resources=pipeline.resources)
    for day in ("2026-03-13", "2026-03-14"):
        pipeline.set_time(datetime.fromisoformat(f"{day}T12:00:00+00:00"))
        assert dg.materialize([weather_events, kafka_drain, weather_raw, silver], partition_key=day,
                              resources=pipeline.resources, instance=pipeline.instance).success  # fmt: skip
    first = dg.evaluate_automation_conditions(defs=defs, instance=pipeline.instance)
    assert first.get_requested_partitions(CLEANED) == set()  # everything is up to date

    pipeline.set_time(datetime(2026, 3, 13, 22, 0, tzinfo=UTC))  # a late reading for yesterday
    assert dg.materialize([weather_events], resources=pipeline.resources, instance=pipeline.instance).success
    assert dg.materialize([kafka_drain], resources=pipeline.resources, instance=pipeline.instance).success

    second = dg.evaluate_automation_conditions(defs=defs, instance=pipeline.instance, cursor=first.cursor)
    # only the day the late reading belongs to: the drain changed no other day
    assert second.get_requested_partitions(CLEANED) == {"2026-03-13"}
    assert second.get_requested_partitions(DAILY_AGG) == {"2026-03-13"}
