"""Spark configuration for the lake: S3A against any S3 API (MinIO, AWS, others) and the JDBC driver.

One place builds it, so the Dagster resource, tests and benchmarks open identical sessions.

The S3 keys are never part of the session configuration: PySpark hands that to spark-submit as command-line
arguments, which every local user can read with `ps`. They are set on the running JVM's Hadoop configuration
instead, through the Py4J gateway, before anything touches S3 (Spark's UI redacts them); Spark ships that
configuration to the executors with each job, so a cluster gets them too.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from weather_platform.settings import Settings
from weather_platform.stack import versions

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def _jars() -> dict[str, str]:
    """Local jars cached by `stack up` when present, else Maven coordinates that Spark resolves itself."""
    if os.environ.get("SPARK_JARS"):
        return {"spark.jars": os.environ["SPARK_JARS"]}
    from weather_platform.stack import provision

    cached = provision.cached_spark_jars()
    if cached is not None:
        return {"spark.jars": ",".join(str(jar) for jar in sorted(cached.glob("*.jar")))}
    return {"spark.jars.packages": ",".join(versions.SPARK_ARTIFACTS)}


def spark_conf(settings: Settings, app_name: str = "weather-platform") -> dict[str, str]:
    conf = {
        "spark.app.name": app_name,
        "spark.master": settings.spark_master,
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.shuffle.partitions": "8",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        # No map-side top-1 before the silver de-duplication's shuffle: it sorts every wide bronze row (spilling) to
        # drop the few re-delivered ones early, which costs more than shuffling them.
        "spark.sql.optimizer.windowGroupLimitThreshold": "-1",
        "spark.sql.parquet.compression.codec": "snappy",
        # Timestamps as standard Parquet INT64 UTC instants (not the legacy INT96): any reader gets them right, and
        # writing them is cheaper.
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.ui.showConsoleProgress": "false",
        # Spark's own web UI takes port 4040 (or the next free one) unless told: off unless SPARK_UI_PORT names one.
        **(
            {"spark.ui.enabled": "true", "spark.ui.port": str(settings.spark_ui_port)}
            if settings.spark_ui_port
            else {"spark.ui.enabled": "false"}
        ),
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.endpoint.region": settings.s3_region,
        "spark.hadoop.fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        "spark.hadoop.fs.s3a.fast.upload": "true",
        **_jars(),
    }
    if settings.s3_endpoint_url:  # MinIO and other non-AWS servers: path-style requests, TLS as the URL says
        endpoint = urlparse(settings.s3_endpoint_url)
        conf["spark.hadoop.fs.s3a.endpoint"] = settings.s3_endpoint_url
        conf["spark.hadoop.fs.s3a.path.style.access"] = "true"
        conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = str(endpoint.scheme == "https").lower()
    return conf


def s3a_credentials(settings: Settings) -> dict[str, str]:
    """The Hadoop keys of the S3 credentials, set at run time (never on a command line)."""
    if settings.s3_access_key_id is None:
        return {}
    return {
        "fs.s3a.access.key": settings.secret("s3_access_key_id"),
        "fs.s3a.secret.key": settings.secret("s3_secret_access_key"),
    }


def build_spark_session(settings: Settings, app_name: str = "weather-platform") -> SparkSession:
    from pyspark.sql import SparkSession

    bind_driver_locally()
    builder = SparkSession.builder
    for key, value in spark_conf(settings, app_name).items():
        builder = builder.config(key, value)
    return with_credentials(builder.getOrCreate(), s3a_credentials(settings), settings.spark_log_level)


def bind_driver_locally() -> None:
    """The driver listens on the loopback interface unless SPARK_LOCAL_IP says otherwise (read at JVM start)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


def with_credentials(session: SparkSession, credentials: dict[str, str], log_level: str) -> SparkSession:
    """Set the S3 keys on the running session (never on a command line) and its log level."""
    # The context's Hadoop configuration serves RDD-level access; SQL file sources build theirs from a copy
    # taken when the session state was created, plus every runtime SQL setting: so both are set.
    hadoop = session.sparkContext._jsc.hadoopConfiguration()
    for key, value in credentials.items():
        hadoop.set(key, value)
        session.conf.set(key, value)
    session.sparkContext.setLogLevel(log_level)
    return session
