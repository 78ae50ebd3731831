"""An isolated pipeline per test: its own topics, buckets and consumer group on the real services, resources
pointing at them, a simulator whose clock the test sets, and a throw-away Dagster instance."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import psycopg
import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from psycopg import sql

from weather_platform.connections import s3_client
from weather_platform.resources import KafkaResource, build_resources
from weather_platform.settings import Settings
from weather_platform.sources.simulator import SimulatorServer
from weather_platform.warehouse.migrations import migrate
from weather_platform_tests.lanes import postgres_in


@dataclass
class Pipeline:
    settings: Settings
    resources: dict[str, Any]
    simulator: SimulatorServer
    clock: list[datetime]  # the simulator's "now": tests move it
    instance: dg.DagsterInstance
    s3: Any

    def set_time(self, moment: datetime) -> None:
        self.clock[0] = moment


def _empty_bucket(s3: Any, bucket: str) -> None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        if page.get("Contents"):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": o["Key"]} for o in page["Contents"]]})
    s3.delete_bucket(Bucket=bucket)


def simulator_endpoints(simulator: SimulatorServer) -> dict[str, str]:
    """The settings that point the weather APIs at `simulator` (it answers OpenWeather and Open-Meteo)."""
    url = simulator.url
    return {
        "weather_api_base_url": simulator.base_url,
        "open_meteo_forecast_url": url,
        "open_meteo_archive_url": url,
        "open_meteo_geocoding_url": url,
    }


def pipeline_resources(isolated: Settings, unique: str) -> dict[str, Any]:
    """The resources of an isolated pipeline: its topics, buckets, consumer group and warehouse schema (`e2e_<unique>`).
    A process of its own (a backfill a test kills) builds the same ones from the same arguments."""
    resources = build_resources(isolated)
    resources["kafka"] = KafkaResource(
        bootstrap_servers=isolated.kafka_bootstrap_servers,
        topic=isolated.kafka_topic,
        dlq_topic=isolated.kafka_dlq_topic,
        bronze_group=f"e2e-bronze-{unique}",
    )
    resources["postgres"] = postgres_in(isolated, f"e2e_{unique}")
    return resources


@pytest.fixture
def pipeline(settings: Settings, unique: str) -> Iterator[Pipeline]:
    clock = [datetime(2026, 3, 14, 12, 0, tzinfo=UTC)]
    isolated = settings.model_copy(
        update={
            "kafka_topic": f"e2e-weather-{unique}",
            "kafka_dlq_topic": f"e2e-dlq-{unique}",
            "bronze_bucket": f"e2e-bronze-{unique}",
            "silver_bucket": f"e2e-silver-{unique}",
            "weather_cities": "London,GB;Paris,FR;Tokyo,JP",
        }
    )
    s3 = s3_client(settings)
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    admin.create_topics([NewTopic(isolated.kafka_topic, 3, 1), NewTopic(isolated.kafka_dlq_topic, 1, 1)])
    for bucket in (isolated.bronze_bucket, isolated.silver_bucket):
        s3.create_bucket(Bucket=bucket)
    schema = f"e2e_{unique}"
    with psycopg.connect(**settings.postgres_connect_kwargs(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        migrate(conn, schema)  # once, as `weather-platform migrate` does: the gold assets only check the schema
    with SimulatorServer(clock=lambda: clock[0]) as simulator, dg.instance_for_test() as instance:
        isolated = isolated.model_copy(update=simulator_endpoints(simulator))
        yield Pipeline(isolated, pipeline_resources(isolated, unique), simulator, clock, instance, s3)
    admin.delete_topics([isolated.kafka_topic, isolated.kafka_dlq_topic])
    admin.close()
    for bucket in (isolated.bronze_bucket, isolated.silver_bucket):
        _empty_bucket(s3, bucket)
    with psycopg.connect(**settings.postgres_connect_kwargs(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
