"""Clients built from settings — the one place that turns configuration into connections.

The CLI, the Dagster resources and the tests all call these, so every path reaches a service the same way.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from weather_platform.settings import Settings
from weather_platform.sources.openweather import OpenWeatherClient
from weather_platform.streaming.bronze_writer import DEFAULT_GROUP, BronzeWriter


def s3_client(settings: Settings) -> Any:
    """A boto3 S3 client for any S3 API (`s3_client_for` of the settings)."""
    return s3_client_for(
        settings.s3_endpoint_url,
        settings.s3_region,
        settings.secret("s3_access_key_id") if settings.s3_access_key_id else None,
        settings.secret("s3_secret_access_key") if settings.s3_secret_access_key else None,
    )


def s3_client_for(
    endpoint_url: str | None,
    region_name: str | None,
    access_key_id: str | None,
    secret_access_key: str | None,
    max_attempts: int = 3,
) -> Any:
    """A boto3 S3 client for any S3 API (no endpoint: AWS; no keys: boto3's own chain); bounded retries so a stopped
    server fails fast with its endpoint named."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url or None,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        region_name=region_name,
        config=Config(retries={"max_attempts": max_attempts, "mode": "standard"}, connect_timeout=5, read_timeout=60),
    )


def weather_client(settings: Settings, **overrides: Any) -> OpenWeatherClient:
    key = settings.openweather_api_key.get_secret_value() if settings.openweather_api_key else None
    source = "simulator" if settings.uses_simulator else "openweather"
    return OpenWeatherClient(settings.api_base_url, key, source=source, **overrides)


def bronze_writer(settings: Settings, group_id: str = DEFAULT_GROUP, **overrides: Any) -> BronzeWriter:
    return BronzeWriter(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topic=settings.kafka_topic,
        dlq_topic=settings.kafka_dlq_topic,
        s3=s3_client(settings),
        bucket=settings.bronze_bucket,
        group_id=group_id,
        **{"earliest_day": settings.weather_partitions_start, **overrides},
    )
