"""Policies shared by the Spark and storage assets: retries for transient failures (a service restarting)."""

import dagster as dg

from weather_platform.assets.partitions import DEFINITION_SETTINGS
from weather_platform.resources import KafkaResource, LakeResource, PostgresResource
from weather_platform.service_errors import Endpoints

# 3 retries, 5 minutes apart (docs/DESIGN.md §5); the delay can be shortened for tests and demos.
# Concurrency pools (dagster.instance.yaml gives each one slot): one Spark job and one Kafka drain at a time across
# all runs, while runs without them (the freshness check, retention, gold-only reloads) never queue behind them.
SPARK_POOL = "spark"
KAFKA_POOL = "kafka"

RETRY = dg.RetryPolicy(max_retries=3, delay=DEFINITION_SETTINGS.weather_retry_delay_seconds)


def endpoints(
    kafka: KafkaResource | None = None, lake: LakeResource | None = None, postgres: PostgresResource | None = None
) -> Endpoints:
    """Where each service is, for error messages (never credentials)."""
    return Endpoints(
        kafka=kafka.bootstrap_servers if kafka else None,
        s3=lake.s3_location if lake else None,
        postgres=postgres.location if postgres else None,
    )
