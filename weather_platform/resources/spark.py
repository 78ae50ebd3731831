"""Spark for Dagster. Not dagster-pyspark's PySparkResource: that takes the whole Spark config as resource
config, and the UI would show the S3 secret key in it. Here secrets are EnvVars and the session is built by
`lake.spark_config`, the same code the CLI, tests and benchmarks use."""

import dagster as dg
from pydantic import SecretStr
from pyspark.sql import SparkSession

from weather_platform.lake.spark_config import build_spark_session
from weather_platform.settings import Settings


class SparkResource(dg.ConfigurableResource):
    """Everything the session needs is a field: nothing is read from the environment when a run uses it."""

    master: str = "local[*]"
    ui_port: int | None = None
    driver_memory: str = "2g"
    log_level: str = "ERROR"
    s3_endpoint_url: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_region: str = "us-east-1"

    def lake_settings(self) -> Settings:
        """The Spark part of the settings, from this resource's fields alone (no environment, no .env file)."""
        return Settings.model_construct(
            spark_master=self.master,
            spark_ui_port=self.ui_port,
            spark_driver_memory=self.driver_memory,
            spark_log_level=self.log_level,
            s3_endpoint_url=self.s3_endpoint_url,
            s3_access_key_id=SecretStr(self.s3_access_key_id) if self.s3_access_key_id else None,
            s3_secret_access_key=SecretStr(self.s3_secret_access_key) if self.s3_secret_access_key else None,
            s3_region=self.s3_region,
        )

    def session(self) -> SparkSession:
        """The process's Spark session (created once; a run reuses it for every Spark asset and every day)."""
        return build_spark_session(self.lake_settings(), "weather-platform-dagster")
