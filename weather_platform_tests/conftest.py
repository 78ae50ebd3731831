"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from weather_platform.settings import Settings, load_settings

# Before any asset module is imported: retries a second apart, so a test of a dead service does not wait 15 min.
os.environ.setdefault("WEATHER_RETRY_DELAY_SECONDS", "1")

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Settings of the running stack (`make test` exports `weather-platform stack env`)."""
    return load_settings()


@pytest.fixture
def unique() -> str:
    """A short unique suffix so tests never collide with each other's topics, objects or tables."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def spark(settings: Settings) -> Iterator[SparkSession]:
    """One real Spark session for the run (a JVM per session is the expensive part), with S3A and JDBC jars."""
    from weather_platform.lake.spark_config import build_spark_session

    session = build_spark_session(settings.model_copy(update={"spark_master": "local[2]"}), "weather_platform_tests")
    session.conf.set("spark.sql.shuffle.partitions", "4")
    yield session
    session.stop()
