"""A real Spark session writes Parquet to s3a:// on the stack's S3 server and a table to PostgreSQL over JDBC."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from pyspark.sql import SparkSession

from weather_platform.connections import s3_client
from weather_platform.settings import Settings
from weather_platform_tests.integration.test_spark_standalone import CONNECT_MODE

ROWS = [("Paris", "FR", 12.5), ("Oslo", "NO", -3.25), ("Lima", "PE", 19.0)]


def _delete_prefix(settings: Settings, prefix: str) -> None:
    s3 = s3_client(settings)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings.silver_bucket, Prefix=prefix):
        for listed in page.get("Contents", []):
            s3.delete_object(Bucket=settings.silver_bucket, Key=listed["Key"])


def test_parquet_roundtrip_over_s3a(spark: SparkSession, settings: Settings, unique: str) -> None:
    path = f"s3a://{settings.silver_bucket}/_it/{unique}"
    frame = spark.createDataFrame(ROWS, "city string, country string, temperature double")
    frame.write.mode("overwrite").parquet(path)
    try:
        back = spark.read.parquet(path)
        assert sorted(tuple(r) for r in back.collect()) == sorted(ROWS)
    finally:
        _delete_prefix(settings, f"_it/{unique}")


# Which input stream a JVM of the project's configuration reads the lake's Parquet with (the Spark Connect server's
# JVM is not reachable from a client).
_STREAM_CLASS = """
import sys
from weather_platform.lake.spark_config import build_spark_session
from weather_platform.settings import load_settings
settings = load_settings().model_copy(update={"spark_master": "local[1]", "spark_remote": None})
spark = build_spark_session(settings, "stream_class_test")
path = sys.argv[1]
spark.range(3).write.mode("overwrite").parquet(path)
jvm = spark._jvm
folder = jvm.org.apache.hadoop.fs.Path(path)
fs = folder.getFileSystem(spark._jsc.hadoopConfiguration())
parts = [status.getPath() for status in fs.listStatus(folder) if status.getPath().getName().endswith(".parquet")]
stream = fs.open(parts[0])
print(stream.getWrappedStream().getClass().getName())
stream.close()
spark.stop()
"""


def test_the_lake_is_read_through_s3a_classic_stream_not_the_analytics_accelerator(
    settings: Settings, unique: str
) -> None:
    """The analytics accelerator, Hadoop 3.5's default S3A reader, keeps an entry for every object it has read for the
    life of its filesystem (HADOOP-20058): a Spark Connect server that reads new bronze objects every hour would grow
    its heap without bound."""
    path = f"s3a://{settings.silver_bucket}/_it/{unique}"
    local = {key: value for key, value in os.environ.items() if not key.startswith(("SPARK_REMOTE", "SPARK_CONNECT"))}
    done = subprocess.run(
        [sys.executable, "-c", _STREAM_CLASS, path], env=local, capture_output=True, text=True, timeout=300, check=False
    )
    try:
        assert done.returncode == 0, done.stderr[-3000:]
        assert done.stdout.strip().splitlines()[-1] == "org.apache.hadoop.fs.s3a.S3AInputStream"
    finally:
        _delete_prefix(settings, f"_it/{unique}")


def test_table_to_postgres_over_jdbc(spark: SparkSession, settings: Settings, unique: str) -> None:
    table = f"it_spark_{unique}"
    frame = spark.createDataFrame(ROWS, "city string, country string, temperature double")
    frame.write.jdbc(
        f"jdbc:postgresql://{settings.postgres_host}:{settings.postgres_port}/{settings.postgres_db}",
        table,
        mode="overwrite",
        properties={
            "user": settings.postgres_user,
            "password": settings.secret("postgres_password"),
            "driver": "org.postgresql.Driver",
        },
    )
    with psycopg.connect(**settings.postgres_connect_kwargs(), autocommit=True) as conn:
        try:
            rows = conn.execute(sql.SQL("SELECT city, country, temperature FROM {}").format(sql.Identifier(table)))
            assert sorted(rows.fetchall()) == sorted(ROWS)
        finally:
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))


def _command_lines() -> dict[int, str]:
    lines = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
    return lines


def test_no_credential_is_on_any_command_line_while_spark_works_on_s3(
    spark: SparkSession, settings: Settings, unique: str
) -> None:
    path = f"s3a://{settings.silver_bucket}/_it/{unique}"
    spark.createDataFrame(ROWS, "city string, country string, temperature double").write.parquet(path)
    assert spark.read.parquet(path).count() == 3  # the keys reached S3A although no command line carries them
    secrets = [settings.secret("s3_secret_access_key"), settings.secret("postgres_password")]
    if settings.spark_remote:
        secrets.append(settings.secret("spark_connect_authenticate_token"))
    lines = _command_lines()
    jvm = [cmd for cmd in lines.values() if "org.apache.spark.deploy.SparkSubmit" in cmd]
    assert jvm, "the Spark JVM (this session's, or the Spark Connect server's) is a process of its own"
    leaks = {pid: cmd[:120] for pid, cmd in lines.items() if any(secret in cmd for secret in secrets)}
    assert leaks == {}
    assert not any("fs.s3a.secret.key" in cmd or "fs.s3a.access.key" in cmd for cmd in jvm)


DAGSTER_SESSION = """
import json, os, sys
import os
import subprocess
import sys
from pathlib import Path
import dagster as dg
from weather_platform.resources import build_resources
from weather_platform.settings import load_settings
settings = load_settings()
path = sys.argv[1]
with dg.build_resources({"spark": build_resources(settings)["spark"]}) as initialized:  # EnvVars resolved, as in a run
    spark = initialized.spark.session()
    spark.createDataFrame([("Oslo", 1.5)], "city string, temperature double").write.parquet(path)
    rows = spark.read.parquet(path).count()
lines, own = [], []
for entry in Path("/proc").iterdir():
    if entry.name.isdigit():
        try:
            line = (entry / "cmdline").read_bytes().replace(b"\\0", b" ").decode(errors="replace")
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        lines.append(line)
        if parent == os.getpid() and "org.apache.spark.deploy.SparkSubmit" in line:
            own.append(line)
secrets = [settings.secret("s3_secret_access_key"), settings.secret("s3_access_key_id")]
if settings.spark_connect_authenticate_token:
    secrets.append(settings.secret("spark_connect_authenticate_token"))
print(json.dumps({"rows": rows, "own_jvm": len(own), "leaks": sum(any(s in line for s in secrets) for line in lines),
                  "local_master": "spark.master=local" in " ".join(own)}))
"""


@pytest.mark.parametrize("mode", ["spark-connect", "in-process"])
def test_the_dagster_spark_resource_reaches_s3_with_no_key_on_a_command_line(
    settings: Settings, unique: str, mode: str
) -> None:
    """The session Dagster runs use, in a process of its own: on the stack's Spark Connect server (SPARK_REMOTE, the
    default of the local stack: the run starts no JVM) or, without SPARK_REMOTE, dagster-pyspark's
    LazyPySparkResource starting the run's own JVM from the resource's config; the keys set at run time either way."""
    import json
    import os
    import subprocess
    import sys

    assert settings.spark_remote, "the local stack's environment names its Spark Connect server"
    env = dict(os.environ)
    if mode == "in-process":
        for variable in CONNECT_MODE:
            env.pop(variable, None)
    path = f"s3a://{settings.silver_bucket}/_it/dagster-{mode}-{unique}"
    child = subprocess.run(
        [sys.executable, "-c", DAGSTER_SESSION, path], capture_output=True, text=True, timeout=300, check=False, env=env
    )
    assert child.returncode == 0, child.stderr[-3000:]
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    assert figures["rows"] == 1  # the keys reached S3A ...
    if mode == "in-process":  # ... of a JVM started from the resource's Spark config ...
        assert figures["own_jvm"] == 1 and figures["local_master"]
    else:  # ... or of the Spark Connect server, the run starting none ...
        assert figures["own_jvm"] == 0
    assert figures["leaks"] == 0  # ... while no command line of any process carries a key


MISSING_DAY = """
import logging.config, sys
from weather_platform.lake.spark_config import build_spark_session
from weather_platform.settings import load_settings
spark = build_spark_session(load_settings(), "it-missing-day")
logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})  # what Dagster does once a run starts
try:
    spark.read.parquet(sys.argv[1]).schema
except Exception as exc:
    print(type(exc).__name__)
"""


def test_reading_a_day_not_written_yet_raises_without_an_error_in_the_log(settings: Settings, unique: str) -> None:
    # PySpark's Connect client logged every gRPC error as ERROR with a stack trace before raising it: each first run
    # of a day showed "GRPC Error received" for the silver day it looks for and does not find yet.
    import os
    import subprocess
    import sys

    assert settings.spark_remote, "the local stack's environment names its Spark Connect server"
    env = {key: value for key, value in os.environ.items() if key != "SPARK_CONNECT_LOG_LEVEL"}
    path = f"s3a://{settings.silver_bucket}/_it/never-written-{unique}/"
    child = subprocess.run([sys.executable, "-c", MISSING_DAY, path], capture_output=True, text=True, timeout=120,
                           check=False, env=env)  # fmt: skip
    assert child.returncode == 0, child.stderr[-3000:]
    assert child.stdout.strip() == "AnalysisException"
    assert "GRPC Error received" not in child.stderr
