"""Spark for Dagster: a session on the Spark Connect server when one is configured (`remote`: no run starts a JVM),
else dagster-pyspark's `LazyPySparkResource` builds one in the run's process from a config the UI shows (no secret
in it: PySpark hands that config to spark-submit as command-line arguments, which `ps` shows). Either way the S3
keys, `EnvVar`s, are set on the running session (`lake.spark_config`)."""

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import SparkSession

from weather_platform.lake.spark_config import bind_driver_locally, connect_session, with_credentials


class SparkResource(dg.ConfigurableResource):
    """The run's one Spark session (created on first use, shared by every Spark asset and every day of a run)."""

    pyspark: dg.ResourceDependency[LazyPySparkResource]
    remote: str | None = None  # SPARK_REMOTE: the Spark Connect server's URL (sc://host:port)
    connect_token: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    log_level: str = "ERROR"

    @property
    def master(self) -> str:
        """Where the work runs, for messages."""
        return self.remote or str(self.pyspark.spark_config.get("spark.master", "local[*]"))

    def session(self) -> SparkSession:
        credentials = (
            {"fs.s3a.access.key": self.s3_access_key_id, "fs.s3a.secret.key": self.s3_secret_access_key or ""}
            if self.s3_access_key_id
            else {}
        )
        if self.remote:
            return connect_session(self.remote, self.connect_token, credentials)
        bind_driver_locally()
        return with_credentials(self.pyspark.spark_session, credentials, self.log_level)
