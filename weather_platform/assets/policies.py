"""Policies shared by the Spark and storage assets: retries for transient failures (a service restarting)."""

import os

import dagster as dg

from weather_platform.resources import KafkaResource, LakeResource, PostgresResource
from weather_platform.service_errors import Endpoints

# 3 retries, 5 minutes apart (docs/DESIGN.md §5); the delay can be shortened for tests and demos.
RETRY = dg.RetryPolicy(max_retries=3, delay=float(os.environ.get("WEATHER_RETRY_DELAY_SECONDS", "300")))


def endpoints(
    kafka: KafkaResource | None = None, lake: LakeResource | None = None, postgres: PostgresResource | None = None
) -> Endpoints:
    """Where each service is, for error messages (never credentials)."""
    return Endpoints(
        kafka=kafka.bootstrap_servers if kafka else None,
        s3=(lake.s3.endpoint_url or "AWS S3") if lake else None,
        postgres=f"{postgres.host}:{postgres.port}/{postgres.dbname}" if postgres else None,
    )
