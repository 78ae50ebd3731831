"""Kafka → bronze on the real broker and S3 server: exact counts, event-day folders, crash recovery, DLQ, groups."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

from weather_platform.connections import s3_client
from weather_platform.lake.layout import BronzeObject
from weather_platform.settings import Settings
from weather_platform.sources.observation import Observation
from weather_platform.streaming.bronze_writer import BronzeWriter, WriteReport
from weather_platform.streaming.dead_letter import DeadLetter
from weather_platform.streaming.producer import build_producer, send_observations

MIDNIGHT = datetime(2026, 3, 14, tzinfo=UTC)


class Lane:
    """An isolated topic pair and bucket on the real services, so tests never see each other's data."""

    def __init__(self, settings: Settings, unique: str) -> None:
        self.settings = settings
        self.topic, self.dlq, self.bucket = f"it-weather-{unique}", f"it-dlq-{unique}", f"it-bronze-{unique}"
        self.s3 = s3_client(settings)

    def writer(self, group: str = "it-bronze", **overrides: object) -> BronzeWriter:
        return BronzeWriter(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            topic=self.topic,
            dlq_topic=self.dlq,
            s3=self.s3,
            bucket=self.bucket,
            group_id=group,
            **overrides,  # type: ignore[arg-type]
        )

    def produce(self, observations: list[Observation]) -> None:
        producer = build_producer(self.settings.kafka_bootstrap_servers)
        assert all(d.ok for d in send_observations(producer, self.topic, observations))
        producer.close()

    def produce_raw(self, values: list[bytes]) -> None:
        producer = KafkaProducer(bootstrap_servers=self.settings.kafka_bootstrap_servers, acks="all")
        for value in values:
            producer.send(self.topic, key=b"raw", value=value)
        producer.flush()
        producer.close()

    def object_keys(self) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix="weather/")
        return [o["Key"] for page in pages for o in page.get("Contents", [])]

    def table(self) -> pa.Table:
        tables = [
            pq.read_table(io.BytesIO(self.s3.get_object(Bucket=self.bucket, Key=k)["Body"].read()))
            for k in self.object_keys()
        ]
        return pa.concat_tables(tables) if tables else pa.table({})

    def dead_letters(self) -> list[DeadLetter]:
        consumer = KafkaConsumer(
            self.dlq,
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            auto_offset_reset="earliest",
            consumer_timeout_ms=3000,
        )
        letters = [DeadLetter.from_json(r.value) for r in consumer]
        consumer.close()
        return letters


@pytest.fixture
def lane(settings: Settings, unique: str) -> Iterator[Lane]:
    lane = Lane(settings, unique)
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    admin.create_topics([NewTopic(lane.topic, 3, 1), NewTopic(lane.dlq, 1, 1)])
    lane.s3.create_bucket(Bucket=lane.bucket)
    yield lane
    admin.delete_topics([lane.topic, lane.dlq])
    admin.close()
    pages = lane.s3.get_paginator("list_objects_v2").paginate(Bucket=lane.bucket)
    for page in pages:
        if page.get("Contents"):
            lane.s3.delete_objects(
                Bucket=lane.bucket, Delete={"Objects": [{"Key": o["Key"]} for o in page["Contents"]]}
            )
    lane.s3.delete_bucket(Bucket=lane.bucket)


def observations(n: int, start: datetime, step: timedelta) -> list[Observation]:
    cities = [("Paris", "FR"), ("Oslo", "NO"), ("Lima", "PE"), ("Tokyo", "JP"), ("Perth", "AU")]
    out = []
    for i in range(n):
        city, country = cities[i % len(cities)]
        moment = start + step * i
        out.append(
            Observation(
                city=city,
                country=country,
                timestamp=moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                temperature=10.0 + i % 7,
                humidity=50 + i % 40,
                ingested_at=moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                source="test",
            )
        )
    return out


def drain(lane: Lane, **overrides: object) -> WriteReport:
    writer = lane.writer(**overrides)
    try:
        return writer.run("drain")
    finally:
        writer.close()


def test_every_record_once_in_its_event_day_folder_across_midnight(lane: Lane) -> None:
    sent = observations(600, MIDNIGHT - timedelta(minutes=30), timedelta(seconds=6))  # 23:30 → 00:30 UTC
    lane.produce(sent)
    report = drain(lane)

    table = lane.table()
    assert report.rows == table.num_rows == 600
    assert report.dead_letters == 0 and report.lag_after == {0: 0, 1: 0, 2: 0}
    offsets = list(zip(table["kafka_partition"].to_pylist(), table["kafka_offset"].to_pylist(), strict=True))
    assert len(set(offsets)) == 600
    for key in lane.object_keys():
        obj = BronzeObject.parse(key)
        assert obj is not None
        days = {
            ts[:10]
            for ts in pq.read_table(io.BytesIO(lane.s3.get_object(Bucket=lane.bucket, Key=key)["Body"].read()))[
                "timestamp"
            ].to_pylist()
        }
        assert days == {obj.day.isoformat()}
    assert {str(d): n for d, n in report.days.items()} == {"2026-03-13": 300, "2026-03-14": 300}
    assert sorted(table["timestamp"].to_pylist()) == sorted(o.timestamp for o in sent)


def test_rerun_after_drain_writes_nothing_new(lane: Lane) -> None:
    lane.produce(observations(50, MIDNIGHT, timedelta(minutes=1)))
    assert drain(lane).rows == 50
    keys = lane.object_keys()
    again = drain(lane)
    assert again.rows == 0 and lane.object_keys() == keys


CRASHING_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from weather_platform.connections import s3_client
    from weather_platform.settings import load_settings
    from weather_platform.streaming.bronze_writer import BronzeWriter
    topic, dlq, bucket = sys.argv[1:4]
    settings = load_settings()
    writer = BronzeWriter(bootstrap_servers=settings.kafka_bootstrap_servers, topic=topic, dlq_topic=dlq,
                          s3=s3_client(settings), bucket=bucket, group_id="it-bronze",
                          after_write=lambda: os.kill(os.getpid(), signal.SIGKILL))
    writer.run("drain")
    """
)


def test_sigkill_between_write_and_commit_loses_and_duplicates_nothing(lane: Lane) -> None:
    sent = observations(900, MIDNIGHT - timedelta(hours=1), timedelta(seconds=8))
    lane.produce(sent)
    crashed = subprocess.run([sys.executable, "-c", CRASHING_WRITER, lane.topic, lane.dlq, lane.bucket], timeout=120)
    assert crashed.returncode == -9
    assert len(lane.object_keys()) > 0  # objects were written, offsets were not committed

    report = drain(lane)
    table = lane.table()
    assert report.recovered_objects  # the crashed batch's objects were found through its intent and removed
    assert report.rows == table.num_rows == 900
    pairs = list(zip(table["kafka_partition"].to_pylist(), table["kafka_offset"].to_pylist(), strict=True))
    assert len(set(pairs)) == 900


def test_bad_records_go_to_the_dead_letter_topic_with_reasons(lane: Lane) -> None:
    good = observations(20, MIDNIGHT, timedelta(minutes=3))
    lane.produce(good[:10])
    lane.produce_raw(
        [
            b"{not json",
            b'{"city": "Paris", "timestamp": "2026-03-14T10:00:00Z"}',
            b'["an", "array"]',
            b'{"city": "Paris", "timestamp": "yesterday", "temperature": 3}',
            b"\xff\xfe binary",
        ]
    )
    lane.produce(good[10:])
    report = drain(lane)

    assert report.rows == lane.table().num_rows == 20
    letters = lane.dead_letters()
    assert report.dead_letters == len(letters) == 5
    reasons = sorted(letter.reason for letter in letters)
    assert any(r.startswith("malformed JSON") for r in reasons)
    assert "missing required field: temperature" in reasons
    assert any("array" in r for r in reasons)
    assert any("timestamp" in r for r in reasons)
    binary = next(letter for letter in letters if letter.raw is None)
    assert binary.raw_base64 is not None  # the exact bytes are kept
    assert all(letter.source_topic == lane.topic and letter.source_offset >= 0 for letter in letters)


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_two_consumers_in_one_group_split_partitions_and_write_every_record_once(lane: Lane) -> None:
    writers = [lane.writer(group="it-pair", batch_size=200, flush_seconds=0.5) for _ in range(2)]
    reports: list[WriteReport] = []
    threads = [threading.Thread(target=lambda w=w: reports.append(w.run("follow", max_seconds=90))) for w in writers]
    try:
        threads[0].start()
        _wait_for(lambda: writers[0].assigned_partitions() == {0, 1, 2}, 30, "the first writer's assignment")
        threads[1].start()
        _wait_for(
            lambda: (
                all(w.assigned_partitions() for w in writers)
                and writers[0].assigned_partitions() | writers[1].assigned_partitions() == {0, 1, 2}
            ),
            30,
            "the group to split the partitions",
        )
        assert not writers[0].assigned_partitions() & writers[1].assigned_partitions()
        lane.produce(observations(3000, MIDNIGHT, timedelta(seconds=20)))
        _wait_for(lambda: sum(w.report.rows for w in writers) >= 3000, 60, "3000 rows")
    finally:
        for w in writers:
            w.request_stop()
        for t in threads:
            t.join(timeout=30)
        for w in writers:
            w.close()
    table = lane.table()
    pairs = list(zip(table["kafka_partition"].to_pylist(), table["kafka_offset"].to_pylist(), strict=True))
    assert table.num_rows == len(set(pairs)) == 3000
    assert sorted(r.rows > 0 for r in reports) == [True, True]  # both wrote their share
    assert sum(r.rows for r in reports) == 3000
    intents = [
        o["Key"] for o in lane.s3.list_objects_v2(Bucket=lane.bucket).get("Contents", []) if o["Key"].startswith("_")
    ]
    assert intents == []  # every committed batch removed its intent
