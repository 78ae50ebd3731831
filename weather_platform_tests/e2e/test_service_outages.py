"""A service that stops during a run: the run fails with an error naming it; once it is back, a re-run completes
and nothing is duplicated or lost. Each test starts a private server of its own, so the shared stack keeps running."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from weather_platform.assets.bronze import kafka_drain, weather_raw
from weather_platform.assets.gold import GOLD_ASSETS
from weather_platform.assets.ingestion import weather_events
from weather_platform.assets.silver import silver
from weather_platform.lake import bronze_store
from weather_platform.resources import KafkaResource, LakeResource, PostgresResource, S3Resource, SparkResource
from weather_platform.resources.io_managers import LakeIOManager
from weather_platform.settings import Settings
from weather_platform.stack.services import MinIO, Postgres, SparkConnect
from weather_platform_tests.e2e.conftest import Pipeline

pytestmark = pytest.mark.e2e
CREDS = {
    "S3_ACCESS_KEY_ID": "outage-test",
    "S3_SECRET_ACCESS_KEY": "outage-test-secret",
    "POSTGRES_PASSWORD": "writer-pw",
    "WEATHER_READER_PASSWORD": "reader-pw",
    "POSTGRES_ADMIN_PASSWORD": "admin-pw",
    "SPARK_CONNECT_AUTHENTICATE_TOKEN": "connect-token",
}


def _free_port_pair() -> int:
    """A port p with p+1 free too (MinIO's console)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue


@pytest.fixture
def private_minio(tmp_path: Path) -> Iterator[MinIO]:
    server = MinIO(Settings(s3_endpoint_url=f"http://127.0.0.1:{_free_port_pair()}"), tmp_path, CREDS)
    server.launch()
    server.wait_ready()
    yield server
    server.stop()


@pytest.fixture
def private_postgres(tmp_path: Path) -> Iterator[Postgres]:
    server = Postgres(Settings(postgres_port=_free_port_pair()), tmp_path, CREDS)
    server.launch()
    server.wait_ready()
    yield server
    server.stop()


@pytest.fixture
def private_spark_connect(settings: Settings, tmp_path: Path) -> Iterator[SparkConnect]:
    port = _free_port_pair()
    server = SparkConnect(settings.model_copy(update={"spark_remote": f"sc://localhost:{port}"}), tmp_path, CREDS)
    server.launch()
    server.wait_ready()
    yield server
    server.stop()


def _error_text(result: dg.ExecuteInProcessResult, node: str) -> str:
    """The step's error with its causes (after retries Dagster reports the last attempt's error as the cause)."""
    failure = result.failure_data_for_node(node)
    assert failure is not None
    error, parts = failure.error, []
    while error is not None:
        parts.append(error.message)
        error = error.cause or error.context
    return "\n".join(parts)


def _restart(server: MinIO | Postgres | SparkConnect) -> None:
    server.launch()
    server.wait_ready()


def test_s3_stopped_during_bronze_then_back_loses_and_duplicates_nothing(
    pipeline: Pipeline, private_minio: MinIO
) -> None:
    endpoint = f"http://127.0.0.1:{private_minio.port}"
    s3 = S3Resource(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=CREDS["S3_ACCESS_KEY_ID"],
                    aws_secret_access_key=CREDS["S3_SECRET_ACCESS_KEY"], max_attempts=1)  # fmt: skip
    pipeline.resources["lake"] = LakeResource(s3=s3)  # default buckets, created by the private server's set-up
    for hour in (8, 9):
        pipeline.set_time(datetime(2026, 3, 14, hour, tzinfo=UTC))
        assert dg.materialize([weather_events], resources=pipeline.resources, instance=pipeline.instance).success

    private_minio.stop()
    failed = dg.materialize([kafka_drain], resources=pipeline.resources, instance=pipeline.instance,
                            raise_on_error=False)  # fmt: skip
    assert not failed.success
    error = _error_text(failed, "bronze__kafka_drain")
    assert f"S3 at {endpoint} is unavailable" in error

    _restart(private_minio)
    again = dg.materialize([kafka_drain, weather_raw], partition_key="2026-03-14", resources=pipeline.resources,
                           instance=pipeline.instance)  # fmt: skip
    assert again.success
    table = bronze_store.read_day(s3.get_client(), "bronze-layer", date(2026, 3, 14))
    assert table is not None and table.num_rows == 6  # 3 cities x 2 rounds, each once
    assert bronze_store.duplicate_coordinates(table) == 0


def test_postgres_stopped_before_gold_then_back_gives_exact_rows(
    pipeline: Pipeline, private_postgres: Postgres
) -> None:
    pipeline.resources["postgres"] = PostgresResource(
        host="127.0.0.1", port=private_postgres.port, user="weather_writer", password=CREDS["POSTGRES_PASSWORD"]
    )
    pipeline.set_time(datetime(2026, 3, 14, 12, tzinfo=UTC))
    assets = [weather_events, kafka_drain, weather_raw, silver]
    assert dg.materialize(
        assets, partition_key="2026-03-14", resources=pipeline.resources, instance=pipeline.instance
    ).success

    private_postgres.stop()
    failed = dg.materialize([weather_raw, silver, *GOLD_ASSETS], selection=GOLD_ASSETS[:1], partition_key="2026-03-14",
                            resources=pipeline.resources, instance=pipeline.instance, raise_on_error=False)  # fmt: skip
    assert not failed.success
    error = _error_text(failed, "gold__weather_detailed")
    assert f"PostgreSQL at 127.0.0.1:{private_postgres.port}/weather_dw is unavailable" in error

    _restart(private_postgres)
    for _ in range(2):  # the retry, and one more for good measure: the day is replaced, never appended
        assert dg.materialize([weather_raw, silver, *GOLD_ASSETS], selection=GOLD_ASSETS, partition_key="2026-03-14",
                              resources=pipeline.resources, instance=pipeline.instance).success  # fmt: skip
    with pipeline.resources["postgres"].connect() as conn:
        detailed = conn.execute("SELECT count(*), count(DISTINCT city) FROM gold_weather_detailed").fetchone()
        failed_logs = conn.execute("SELECT count(*) FROM pipeline_execution_log WHERE status = 'failed'").fetchone()
    assert detailed == (3, 3)
    assert failed_logs == (0,)  # the server was down: the failure is in Dagster's run log, not in the dead database


def test_kafka_unreachable_names_kafka_even_while_the_writer_is_being_built(pipeline: Pipeline) -> None:
    port = _free_port_pair()  # nothing listens there
    pipeline.resources["kafka"] = KafkaResource(bootstrap_servers=f"127.0.0.1:{port}", topic="t", dlq_topic="d")
    failed = dg.materialize([kafka_drain], resources=pipeline.resources, instance=pipeline.instance,
                            raise_on_error=False)  # fmt: skip
    assert not failed.success
    assert f"Kafka at 127.0.0.1:{port} is unavailable" in _error_text(failed, "bronze__kafka_drain")


def test_spark_connect_stopped_before_silver_names_it_and_a_rerun_after_its_restart_writes_the_day_once(
    pipeline: Pipeline, private_spark_connect: SparkConnect
) -> None:
    spark = SparkResource(
        pyspark=pipeline.resources["spark"].pyspark,
        remote=private_spark_connect.url,
        connect_token=CREDS["SPARK_CONNECT_AUTHENTICATE_TOKEN"],
        s3_access_key_id=pipeline.settings.secret("s3_access_key_id"),
        s3_secret_access_key=pipeline.settings.secret("s3_secret_access_key"),
    )
    pipeline.resources["spark"] = spark
    pipeline.resources["lake_io_manager"] = LakeIOManager(spark=spark, lake=pipeline.resources["lake"])
    pipeline.set_time(datetime(2026, 3, 14, 12, tzinfo=UTC))
    day = "2026-03-14"
    assert dg.materialize([weather_events, kafka_drain, weather_raw], partition_key=day,
                          resources=pipeline.resources, instance=pipeline.instance).success  # fmt: skip

    private_spark_connect.stop()
    failed = dg.materialize([weather_raw, silver], selection=[silver], partition_key=day, resources=pipeline.resources,
                            instance=pipeline.instance, raise_on_error=False)  # fmt: skip
    assert not failed.success
    error = _error_text(failed, "silver")
    assert f"Spark Connect at {private_spark_connect.url} is unavailable: failed to connect to all addresses" in error

    _restart(private_spark_connect)  # a new server: this process's session on the old one is gone with it
    assert dg.materialize([weather_raw, silver], selection=[silver], partition_key=day,
                          resources=pipeline.resources, instance=pipeline.instance).success  # fmt: skip
    cleaned = pipeline.s3.list_objects_v2(
        Bucket=pipeline.settings.silver_bucket, Prefix="weather_cleaned/year=2026/month=03/day=14/"
    )
    files = [o["Key"] for o in cleaned.get("Contents", []) if o["Key"].endswith(".parquet")]
    assert len(files) == 1  # one file for the day
    body = pipeline.s3.get_object(Bucket=pipeline.settings.silver_bucket, Key=files[0])["Body"].read()
    table = pq.read_table(io.BytesIO(body))
    assert table.num_rows == 3 and sorted(set(table.column("city").to_pylist())) == ["London", "Paris", "Tokyo"]
