"""Dagster resources, built from the settings: plain values are shown in the UI, secrets are EnvVars."""

import os
from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource

from weather_platform.lake.spark_config import spark_conf
from weather_platform.resources.alerts import AlertWebhookResource
from weather_platform.resources.io_managers import LakeIOManager, gold_io_manager, silver_days_input
from weather_platform.resources.kafka import KafkaResource
from weather_platform.resources.lake import LakeResource, S3Resource
from weather_platform.resources.postgres import PostgresResource
from weather_platform.resources.spark import SparkResource
from weather_platform.resources.weather_api import WeatherApiResource
from weather_platform.settings import InvalidSetting, Settings

__all__ = [
    "AlertWebhookResource",
    "KafkaResource",
    "LakeResource",
    "PostgresResource",
    "S3Resource",
    "SparkResource",
    "WeatherApiResource",
    "build_resources",
]


def _secret(settings: Settings, field: str) -> Any:
    """An EnvVar when the secret is set (the UI shows its name only), else None.

    Dagster resolves an EnvVar from the environment alone: a secret that Settings found only in .env or the
    stack's file is an error that says how to export it, rather than a run that fails later (nothing here writes
    the environment)."""
    if getattr(settings, field) is None:
        return None
    variable = field.upper()
    if variable not in os.environ:
        raise InvalidSetting(
            f"{variable} is set in a file but not in this process's environment, where Dagster reads secrets: "
            'export it first, e.g. `eval "$(weather-platform stack env)"` for the local stack'
        )
    return dg.EnvVar(variable)


def _weather_api(settings: Settings) -> WeatherApiResource:
    """OpenWeather (with a key, else the simulator) or Open-Meteo, as WEATHER_SOURCE says; history always comes from
    Open-Meteo's archive and geocoder."""
    forecast, archive, geocoding = settings.open_meteo_urls
    if settings.weather_source == "open-meteo":
        return WeatherApiResource(
            base_url=forecast,
            cities=settings.weather_cities,
            source="open-meteo",
            archive_url=archive,
            geocoding_url=geocoding,
        )
    return WeatherApiResource(
        base_url=settings.api_base_url,
        api_key=_secret(settings, "openweather_api_key"),
        cities=settings.weather_cities,
        archive_url=archive,
        geocoding_url=geocoding,
    )


def build_resources(settings: Settings) -> dict[str, Any]:
    s3 = S3Resource(
        endpoint_url=settings.s3_endpoint_url or None,
        region_name=settings.s3_region,
        aws_access_key_id=_secret(settings, "s3_access_key_id"),
        aws_secret_access_key=_secret(settings, "s3_secret_access_key"),
        max_attempts=3,
    )
    lake = LakeResource(s3=s3, bronze_bucket=settings.bronze_bucket, silver_bucket=settings.silver_bucket)
    spark = SparkResource(
        pyspark=LazyPySparkResource(spark_config=spark_conf(settings, "weather-platform-dagster")),
        remote=settings.spark_remote or None,
        connect_token=_secret(settings, "spark_connect_authenticate_token") if settings.spark_remote else None,
        s3_access_key_id=_secret(settings, "s3_access_key_id"),
        s3_secret_access_key=_secret(settings, "s3_secret_access_key"),
        log_level=settings.spark_log_level,
    )
    return {
        "kafka": KafkaResource(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            topic=settings.kafka_topic,
            dlq_topic=settings.kafka_dlq_topic,
            client=settings.kafka_client,
        ),
        "lake": lake,
        "weather_api": _weather_api(settings),
        "spark": spark,
        "alert_webhook": AlertWebhookResource(url=_secret(settings, "alert_webhook_url")),
        "postgres": PostgresResource(
            host=settings.postgres_host,
            port=settings.postgres_port,
            user=settings.postgres_user,
            password=_secret(settings, "postgres_password") or "",
            dbname=settings.postgres_db,
        ),
        # The IO managers: the lake's over this `spark` and `lake` (replace them together), gold's over the run's
        # `postgres` and silver days over its `lake`, whatever is given under those keys.
        "lake_io_manager": LakeIOManager(spark=spark, lake=lake),
        "silver_days": silver_days_input,
        "gold_io_manager": gold_io_manager,
    }
