"""Spark for Dagster: dagster-pyspark's `LazyPySparkResource` builds the session from a config the UI shows (no
secret in it: PySpark hands that config to spark-submit as command-line arguments, which `ps` shows); this resource
adds the S3 keys, `EnvVar`s, to the running session's Hadoop configuration (`lake.spark_config`)."""

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import SparkSession

from weather_platform.lake.spark_config import bind_driver_locally, with_credentials


class SparkResource(dg.ConfigurableResource):
    """The run's one Spark session (created on first use, shared by every Spark asset and every day of a run)."""

    pyspark: dg.ResourceDependency[LazyPySparkResource]
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    log_level: str = "ERROR"

    @property
    def master(self) -> str:
        return str(self.pyspark.spark_config.get("spark.master", "local[*]"))

    def session(self) -> SparkSession:
        bind_driver_locally()
        credentials = (
            {"fs.s3a.access.key": self.s3_access_key_id, "fs.s3a.secret.key": self.s3_secret_access_key or ""}
            if self.s3_access_key_id
            else {}
        )
        return with_credentials(self.pyspark.spark_session, credentials, self.log_level)
