"""Spark configuration for the lake: S3A against any S3 API (MinIO, AWS, others) and the JDBC driver.

One place builds it, so the Dagster resource, tests and benchmarks open identical sessions.

The S3 keys are never part of the session configuration: PySpark hands that to spark-submit as command-line
arguments, which every local user can read with `ps`. They are set on the running JVM's Hadoop configuration
instead, through the Py4J gateway, before anything touches S3 (Spark's UI redacts them); Spark ships that
configuration to the executors with each job, so a cluster gets them too.
"""

from __future__ import annotations

import atexit
import contextlib
import os
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlparse

from weather_platform.settings import Settings
from weather_platform.stack import versions

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.connect.session import SparkSession as ConnectSession


def _jars() -> dict[str, str]:
    """Local jars cached by `stack up` when present, else Maven coordinates that Spark resolves itself."""
    if os.environ.get("SPARK_JARS"):
        return {"spark.jars": os.environ["SPARK_JARS"]}
    from weather_platform.stack import provision

    cached = provision.cached_spark_jars()
    if cached is not None:
        return {"spark.jars": ",".join(str(jar) for jar in sorted(cached.glob("*.jar")))}
    return {"spark.jars.packages": ",".join(versions.SPARK_ARTIFACTS)}


# SQL settings the project's Spark work relies on, also set on every Spark Connect session (a server run elsewhere
# has its own defaults). A generated method over HotSpot's 8,000-byte JIT limit runs interpreted: silver's cleaning,
# formulas and checks in one whole-stage method cost 2.5x the CPU (32.6 against 13.3 s for 1,000,000 rows). At
# 8,000 Spark splits such a stage instead of handing the JVM a method it will never compile.
#
# Hadoop's output committer moves each file twice before silver's dynamic partition overwrite moves it a third time
# into its day folder, and on S3 a move is a copy: version 2 commits a task's files straight into Spark's staging
# folder, one copy less of every byte written (1,000,000 rows: silver 39.8 -> 35.5 s warm). Its known weakness, a
# failed job leaving part of its output in the destination, does not reach readers here: every partitioned write
# goes through that staging folder, and the only other write (an empty day's file) replaces a folder it has emptied.
# A session setting that is not Spark's own goes into the Hadoop configuration of the session's writes.
SESSION_SQL_CONF = {
    "spark.sql.codegen.hugeMethodLimit": "8000",
    "mapreduce.fileoutputcommitter.algorithm.version": "2",
}


def spark_conf(settings: Settings, app_name: str = "weather-platform") -> dict[str, str]:
    conf = {
        "spark.app.name": app_name,
        "spark.master": settings.spark_master,
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.shuffle.partitions": "8",
        # Spark keeps the classes it generates for a query's stages, by their code, 100 by default: silver alone
        # generates 112, so every run compiled about 60 of them again, and the JVM then compiled each new class to
        # machine code again (1,000,000 rows in a warm JVM: 59 classes, 18-23 s of JIT threads on 2 cores, silver
        # 31-32 s; kept: none, 11-15 s, 26-27 s). A kept class holds ~50 KB of heap (the Spark Connect server: 202
        # more classes, 10.6 MB more live heap), so 500 bound it to ~25 MB of the server's 1 GiB.
        "spark.sql.codegen.cache.maxEntries": "500",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        # No map-side top-1 before the silver de-duplication's shuffle: it sorts every wide bronze row (spilling) to
        # drop the few re-delivered ones early, which costs more than shuffling them.
        "spark.sql.optimizer.windowGroupLimitThreshold": "-1",
        # At start-up a Hadoop setting is passed as spark.hadoop.* (spark-submit ignores other names).
        **{
            key if key.startswith("spark.") else f"spark.hadoop.{key}": value for key, value in SESSION_SQL_CONF.items()
        },
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
        # S3A's classic input stream, not Hadoop 3.5's default, the analytics accelerator: the accelerator (1.3.1,
        # the version hadoop-aws 3.5.0 ships) keeps an entry for every object it has read until its filesystem
        # closes (HADOOP-20058), and a filesystem lives as long as its JVM: the Spark Connect server, which reads
        # new bronze objects every hour for weeks, would grow its heap without bound. The accelerator also keeps
        # up to 2 GiB of what it read on the heap and starts 96 threads for each bucket.
        "spark.hadoop.fs.s3a.input.stream.type": "classic",
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
    """A session on the Spark Connect server when SPARK_REMOTE names one, else Spark in this process."""
    if settings.spark_remote:
        token = settings.spark_connect_authenticate_token
        return connect_session(
            settings.spark_remote, token.get_secret_value() if token else None, s3a_credentials(settings)
        )
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
    if _is_connect(session):
        for key, value in credentials.items():
            session.conf.set(key, value)
        return session
    # The context's Hadoop configuration serves RDD-level access; SQL file sources build theirs from a copy
    # taken when the session state was created, plus every runtime SQL setting: so both are set.
    hadoop = session.sparkContext._jsc.hadoopConfiguration()
    for key, value in credentials.items():
        hadoop.set(key, value)
        session.conf.set(key, value)
    session.sparkContext.setLogLevel(log_level)
    return session


_CONNECT_SESSIONS: dict[str, ConnectSession] = {}


def connect_session(url: str, token: str | None, credentials: dict[str, str]) -> SparkSession:
    """This process's session on the Spark Connect server at `url` (one per URL, made again once stopped), with the
    S3 keys set on it: they travel in the session's configuration over gRPC, never on a command line, and the
    server keeps no keys of its own. The token goes in the channel's parameters, never into a message."""
    from pyspark.sql import SparkSession

    session = _CONNECT_SESSIONS.get(url)
    if session is None or session.is_stopped:
        address = url if not token else f"{url};token={token}" if "/;" in url else f"{url.rstrip('/')}/;token={token}"
        # PySpark's own builder: it also switches this process's functions and columns to Spark Connect.
        created = SparkSession.builder.remote(address).create()
        session = _CONNECT_SESSIONS[url] = cast("ConnectSession", created)
        session.client.set_retry_policies([_connect_retries()])
        _quiet_connect_logger()
        for key, value in SESSION_SQL_CONF.items():
            session.conf.set(key, value)
    return with_credentials(cast("SparkSession", session), credentials, "")


def _quiet_connect_logger() -> None:
    """PySpark logs every gRPC error before raising it (as ERROR, with a stack trace: a day not written yet reads as
    an error in the run's log); the exception reaches the caller anyway, and a stopped server is named by
    `service_errors`. SPARK_CONNECT_LOG_LEVEL, PySpark's own switch, still turns it on."""
    if "SPARK_CONNECT_LOG_LEVEL" not in os.environ:
        import logging

        from pyspark.sql.connect.logging import logger

        logger.setLevel(logging.CRITICAL)


def _release_connect_sessions() -> None:
    """At exit, release this process's sessions on their servers (and what they cached) rather than leave them to
    the server's idle timeout: a long-lived server sees a process per run."""
    if not _CONNECT_SESSIONS:
        return
    from pyspark.sql.connect.logging import logger

    logger.disabled = True  # a server already gone has nothing to release: no error at exit (logging re-enables it)
    for session in _CONNECT_SESSIONS.values():
        with contextlib.suppress(Exception):
            session.stop()
    _CONNECT_SESSIONS.clear()


atexit.register(_release_connect_sessions)


def _connect_retries() -> Any:
    """Requests retried for ~8 s (0.25 s doubling to 4 s), a network blip, instead of the client's default of 10
    minutes before a stopped server is reported: the step fails naming the server, and its retries (minutes apart)
    ride out a restart."""
    from pyspark.sql.connect.client.retries import DefaultPolicy

    return DefaultPolicy(max_retries=5, backoff_multiplier=2.0, initial_backoff=250, max_backoff=4_000)


def _is_connect(session: SparkSession) -> bool:
    return type(session).__module__.startswith("pyspark.sql.connect")
