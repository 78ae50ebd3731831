"""Shared fixtures for integration tests."""

from __future__ import annotations

import pytest
from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def spark_local(spark: SparkSession) -> SparkSession:
    """The run's one Spark session (a second would silently reuse the first JVM's configuration anyway)."""
    return spark
