"""Kafka → bronze on the real broker and S3 server: exact counts, event-day folders, crash recovery, DLQ, groups."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import CommitFailedError

from weather_platform.connections import s3_client
from weather_platform.lake import bronze_store
from weather_platform.lake.layout import BronzeObject
from weather_platform.settings import Settings
from weather_platform.sources.observation import Observation
from weather_platform.stack import manager
from weather_platform.streaming.bronze_writer import INTENT_METADATA, BronzeWriter, Fenced, WriteReport
from weather_platform.streaming.dead_letter import DeadLetter
from weather_platform.streaming.producer import build_producer, send_observations
from weather_platform_tests.hostile import poison_cases

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
            earliest_day=self.settings.weather_partitions_start,
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
    admin.close()
    lane.s3.create_bucket(Bucket=lane.bucket)
    yield lane
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)  # a fresh one: the broker may
    admin.delete_topics([lane.topic, lane.dlq])  # have been restarted by the test
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


def test_a_partition_revoked_and_handed_back_mid_drain_is_read_again_from_its_commit(lane: Lane) -> None:
    # An eager rebalance that gives this writer back the partitions it held (kafka-python does one right after
    # joining a fresh topic's group): the buffered records are dropped, and must be fetched again, not skipped.
    lane.produce(observations(25_000, MIDNIGHT, timedelta(seconds=2)))  # more than one poll's 10,000 records
    writer = lane.writer(batch_size=100_000)  # nothing flushes before the drain has read everything
    handed_back: set[Any] = set()
    original = writer.consumer.poll

    def poll(*args: Any, **kwargs: Any) -> Any:
        records = original(*args, **kwargs)
        held = writer.consumer.assignment()
        if not handed_back and held and any(writer._buffers.values()):  # the group takes them and hands them back
            writer._revoked.update(held)
            writer._assigned.update(held)
            handed_back.update(held)
        return records

    writer.consumer.poll = poll  # type: ignore[method-assign]
    try:
        report = writer.run("drain")
    finally:
        writer.close()
    assert len(handed_back) == 3
    table = lane.table()
    assert report.rows == table.num_rows == 25_000
    assert len(set(zip(table["kafka_partition"].to_pylist(), table["kafka_offset"].to_pylist(), strict=True))) == 25_000


def test_a_batch_polled_in_another_group_generation_is_fenced_with_its_reason(lane: Lane) -> None:
    # `make chaos` found it: after a freeze the fence's message itself crashed the writer (a state is a string).
    lane.produce(observations(10, MIDNIGHT, timedelta(minutes=5)))
    writer = lane.writer()
    try:
        writer.run("drain")
        member = writer.consumer.group_metadata()
        older = member.generation_id - 1
        with pytest.raises(Fenced, match=rf"^group generation {member.generation_id} \(<stable>\), batch of {older}$"):
            writer._check_fence(older, writer._watch.freezes)
        writer._check_fence(member.generation_id, writer._watch.freezes)  # this generation, not frozen: writes
    finally:
        writer.close()


def _drain_refusing_one_commit(
    lane: Lane, before_refusal: Callable[[BronzeWriter, Any], None] = lambda writer, offsets: None
) -> tuple[BronzeWriter, WriteReport]:
    """Drain 25,000 records in batches of 4,000 (a batch is in flight while the next is polled); once one batch has
    gone through, the group refuses the next one's commit (it moved on), after `before_refusal(writer, offsets)`."""
    lane.produce(observations(25_000, MIDNIGHT, timedelta(seconds=2)))
    writer = lane.writer(batch_size=4_000)
    commit = writer.consumer.commit
    refused: list[Any] = []

    def refusing_commit(offsets: Any = None, **kwargs: Any) -> Any:
        if not refused and writer.report.rows:
            refused.append(offsets)
            before_refusal(writer, offsets)
            raise CommitFailedError("the group has rebalanced")
        return commit(offsets, **kwargs)

    writer.consumer.commit = refusing_commit  # type: ignore[method-assign]
    try:
        report = writer.run("drain")
    finally:
        writer.close()
    assert len(refused) == 1 and writer.fenced_batches == 1
    return writer, report


def test_a_batch_whose_commit_is_refused_after_its_write_is_recovered_and_written_again_once(lane: Lane) -> None:
    """The writer thread has put a batch's objects; the group then refuses its commit. The batch is dropped, its
    objects are deleted before its partition is written again (not left beside the new batch's, whose offsets may
    end elsewhere), and every record lands once."""
    _, report = _drain_refusing_one_commit(lane)
    table = lane.table()
    assert report.rows == table.num_rows == 25_000
    assert len(set(zip(table["kafka_partition"].to_pylist(), table["kafka_offset"].to_pylist(), strict=True))) == 25_000
    assert report.recovered_objects  # the refused batch's objects, removed before its records were written again


def test_a_dropped_batch_leaves_objects_alone_once_another_writer_holds_their_intent(lane: Lane) -> None:
    """As the previous test, but by the time the writer would recover the dropped batch, another writer owns the
    partition and has a batch of the same offsets in flight (its intent names objects of the same names): they are
    that writer's, about to be committed, and this one must not delete them (a chaos run lost 25 records so)."""

    def another_writers_intent(writer: BronzeWriter, offsets: Any) -> None:
        for tp in offsets:  # the other writer's intent replaces this one's, naming the same objects
            key = writer._intent_key(tp)
            intent = json.loads(lane.s3.get_object(Bucket=lane.bucket, Key=key)["Body"].read())
            body = json.dumps({**intent, "id": "another-writer"}).encode()
            lane.s3.put_object(Bucket=lane.bucket, Key=key, Body=body)

    _, report = _drain_refusing_one_commit(lane, another_writers_intent)
    assert report.recovered_objects == []
    offsets = set(zip(*(lane.table()[c].to_pylist() for c in ("kafka_partition", "kafka_offset")), strict=True))
    assert len(offsets) == 25_000  # nothing lost (objects left beside the re-read batch's are repair_day's)


def test_a_recovery_deletes_no_object_another_writer_has_put_again_under_the_same_name(lane: Lane) -> None:
    """The intent is still this writer's own, but while it was frozen another writer recovered the partition and put
    a batch of the same offsets, objects of the same names, then committed them (the intent left is the one read
    before the freeze). Each object names the intent it was put under: the recovery deletes none of the others'."""
    again: list[str] = []

    def another_writer_puts_the_same_objects(writer: BronzeWriter, offsets: Any) -> None:
        for tp in offsets:
            intent = json.loads(lane.s3.get_object(Bucket=lane.bucket, Key=writer._intent_key(tp))["Body"].read())
            for key in intent["objects"]:
                body = lane.s3.get_object(Bucket=lane.bucket, Key=key)["Body"].read()
                lane.s3.put_object(Bucket=lane.bucket, Key=key, Body=body, Metadata={INTENT_METADATA: "another"})
                again.append(key)

    _, report = _drain_refusing_one_commit(lane, another_writer_puts_the_same_objects)
    assert again and report.recovered_objects == []
    offsets = set(zip(*(lane.table()[c].to_pylist() for c in ("kafka_partition", "kafka_offset")), strict=True))
    assert len(offsets) == 25_000


def test_a_fresh_topic_of_many_records_is_drained_whole(lane: Lane) -> None:
    lane.produce(observations(30_000, MIDNIGHT, timedelta(seconds=2)))
    report = drain(lane)
    table = lane.table()
    assert report.rows == table.num_rows == 30_000
    offsets = set(zip(table["kafka_partition"].to_pylist(), table["kafka_offset"].to_pylist(), strict=True))
    assert len(offsets) == 30_000 and report.lag_after == {0: 0, 1: 0, 2: 0}


def test_a_drain_of_a_fresh_group_joins_it_once_and_reads_each_record_once(lane: Lane) -> None:
    """No second rebalance right after the first join (kafka-python's metadata snapshot), which would throw away
    the records of the first poll and read them again."""
    lane.produce(observations(20_000, MIDNIGHT, timedelta(seconds=2)))
    writer = lane.writer(group=f"{lane.topic}-fresh")  # a group never joined before: its first generation is 1
    polled: list[int] = []
    poll = writer.consumer.poll

    def counting_poll(*args: Any, **kwargs: Any) -> Any:
        records = poll(*args, **kwargs)
        polled.append(sum(len(batch) for batch in records.values()))
        return records

    writer.consumer.poll = counting_poll  # type: ignore[method-assign]
    try:
        report = writer.run("drain")
        generation = writer.consumer.group_metadata().generation_id
    finally:
        writer.close()
    assert report.rows == 20_000
    assert (generation, sum(polled)) == (1, 20_000)


def test_rerun_after_drain_writes_nothing_new(lane: Lane) -> None:
    lane.produce(observations(50, MIDNIGHT, timedelta(minutes=1)))
    assert drain(lane).rows == 50
    keys = lane.object_keys()
    again = drain(lane)
    assert again.rows == 0 and lane.object_keys() == keys


# A writer in its own process whose S3 client acts on the process itself around the N-th bronze object put:
# `kill-after` SIGKILLs it once that object is written (objects written, offsets not committed); `stop-before`
# SIGSTOPs it just before that put, as a GC pause or a slow S3 would freeze it. It prints its report as JSON.
WRITER_PROCESS = textwrap.dedent(
    """
    import json, os, signal, sys
    from weather_platform.connections import s3_client
    from weather_platform.settings import load_settings
    from weather_platform.streaming.bronze_writer import BronzeWriter
    topic, dlq, bucket, group, action, nth = sys.argv[1:7]
    settings = load_settings()
    real = s3_client(settings)

    class Store:
        puts = 0
        def put_object(self, **kwargs):
            if kwargs["Key"].startswith("weather/"):
                Store.puts += 1
                if action == "stop-before" and Store.puts == int(nth):
                    os.kill(os.getpid(), signal.SIGSTOP)
                real.put_object(**kwargs)
                if action == "kill-after" and Store.puts == int(nth):
                    os.kill(os.getpid(), signal.SIGKILL)
                return None
            return real.put_object(**kwargs)
        def __getattr__(self, name):
            return getattr(real, name)

    writer = BronzeWriter(bootstrap_servers=settings.kafka_bootstrap_servers, topic=topic, dlq_topic=dlq,
                          s3=Store(), bucket=bucket, group_id=group, batch_size=200,
                          earliest_day=settings.weather_partitions_start)
    report = writer.run("drain")
    writer.close()
    print(json.dumps({"rows": report.rows, "fenced": writer.fenced_batches}))
    """
)


def _writer_process(lane: Lane, action: str, nth: int, group: str = "it-bronze") -> subprocess.Popen[str]:
    argv = [sys.executable, "-c", WRITER_PROCESS, lane.topic, lane.dlq, lane.bucket, group, action, str(nth)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[0]


def test_sigkill_between_write_and_commit_loses_and_duplicates_nothing(lane: Lane) -> None:
    sent = observations(900, MIDNIGHT - timedelta(hours=1), timedelta(seconds=8))
    lane.produce(sent)
    crashed = _writer_process(lane, "kill-after", 2)
    assert crashed.wait(timeout=120) == -9
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


def test_the_follow_service_started_while_kafka_is_down_waits_for_it(lane: Lane) -> None:
    # `make chaos` found it: a writer restarted during a Kafka outage exited 2 ("unable to bootstrap"), where the
    # running service rides the same outage out.
    [kafka] = [s for s in manager.services() if s.name == "kafka"]
    env = {**os.environ, "KAFKA_TOPIC": lane.topic, "KAFKA_DLQ_TOPIC": lane.dlq, "BRONZE_BUCKET": lane.bucket}
    argv = [sys.executable, "-m", "weather_platform.cli", "consume", "--mode", "follow",
            "--group", f"it-late-{lane.topic}", "--flush-seconds", "0.5"]  # fmt: skip
    kafka.stop()
    lines: list[str] = []
    try:
        service = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        reader = threading.Thread(target=lambda: lines.extend(service.stdout or []), daemon=True)
        reader.start()
        # Until it has met the outage (however long its start takes on a busy machine), then a little longer.
        _wait_for(lambda: "is unavailable" in "".join(lines) or service.poll() is not None, 120, "the outage")
        time.sleep(3)
        assert service.poll() is None, "".join(lines)[-2000:]
    finally:
        kafka.launch()
        kafka.wait_ready()
    try:
        lane.produce(observations(50, MIDNIGHT, timedelta(minutes=1)))
        deadline = time.monotonic() + 120
        while lane.table().num_rows < 50 and service.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        service.send_signal(signal.SIGTERM)  # as a service manager stops it (SIGINT may be ignored in a CI job)
        assert service.wait(timeout=60) == 0
    finally:
        if service.poll() is None:  # never left behind, whatever failed
            service.kill()
            service.wait()
    reader.join(timeout=10)
    output = "".join(lines)
    assert lane.table().num_rows == 50, output[-3000:]
    assert f"Kafka at {lane.settings.kafka_bootstrap_servers} is unavailable" in output
    assert "; retrying in 1 s" in output
    assert "SIGTERM: stopped after the last whole batch" in output
    table = lane.table()
    pairs = set(zip(table["kafka_partition"].to_pylist(), table["kafka_offset"].to_pylist(), strict=True))
    assert table.num_rows == len(pairs) == 50


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


def test_every_poison_record_is_dead_lettered_with_its_reason_and_the_partition_moves_on(lane: Lane) -> None:
    cases = poison_cases(MIDNIGHT + timedelta(hours=9))
    good = observations(30, MIDNIGHT, timedelta(minutes=5))
    lane.produce(good[:15])
    producer = KafkaProducer(bootstrap_servers=lane.settings.kafka_bootstrap_servers, acks="all",
                             max_request_size=4 * 1024 * 1024)  # fmt: skip
    for case in cases:  # all on one partition, between good records: one of them must not stop the others
        producer.send(lane.topic, key=case.key, value=case.value, partition=0)
    producer.flush()
    producer.close()
    lane.produce(good[15:])

    first = drain(lane)
    again = drain(lane)  # a restart after the poison finds nothing left to do: the partition is not stuck

    dead_kinds = [c.kind for c in cases if c.expect == "dead"]
    valid = len(cases) - len(dead_kinds)
    assert first.rows == lane.table().num_rows == 30 + valid
    assert first.dead_letters == len(dead_kinds) and first.lag_after == {0: 0, 1: 0, 2: 0}
    assert again.messages == 0
    letters = lane.dead_letters()
    assert len(letters) == len(dead_kinds)
    assert all(letter.reason and letter.source_partition == 0 for letter in letters)
    oversized = [letter for letter in letters if letter.raw_size > 900_000]
    assert len(oversized) == 1 and oversized[0].truncated  # it fits the DLQ's message size, with size and hash
    reasons = " | ".join(letter.reason for letter in letters)
    for expected in ("integer out of range in humidity", "not valid Unicode", "value is not UTF-8",
                     "Kafka key contains a NUL byte", "text in city has 10000 characters",
                     "is outside 1940-01-01", "before the first partition day"):  # fmt: skip
        assert expected in reasons


def test_a_writer_paused_past_its_session_leaves_no_duplicate_once_the_day_is_repaired(lane: Lane) -> None:
    lane.produce(observations(900, MIDNIGHT - timedelta(hours=1), timedelta(seconds=8)))
    zombie = _writer_process(lane, "stop-before", 2)  # frozen inside its first batch, before its 2nd object
    _wait_for(lambda: _state(zombie.pid) == "T", 60, "the first writer to freeze")
    lane.produce(observations(300, MIDNIGHT + timedelta(hours=1), timedelta(seconds=8)))

    successor = drain(lane)  # takes the partitions once the frozen writer's session has expired
    assert successor.rows == 1200
    os.kill(zombie.pid, signal.SIGCONT)  # it resumes inside a put, then must notice it lost its partitions
    out, _ = zombie.communicate(timeout=120)
    assert zombie.returncode == 0
    assert json.loads(out.strip().splitlines()[-1])["fenced"] >= 1  # the rest of its batch was dropped
    assert lane.table().num_rows > 1200  # the object it finished on resuming duplicates the successor's rows

    writer = lane.writer()
    committed = writer.committed_offsets()
    writer.close()
    removed = []
    for day in (MIDNIGHT.date() - timedelta(days=1), MIDNIGHT.date()):
        repaired = bronze_store.repair_day(lane.s3, lane.bucket, day, committed)
        assert repaired.unrepairable == []
        removed += repaired.removed
    assert removed  # the object it finished on resuming, or its twin from the successor (same rows)
    table = lane.table()
    pairs = list(zip(table["kafka_partition"].to_pylist(), table["kafka_offset"].to_pylist(), strict=True))
    assert len(pairs) == len(set(pairs)) == 1200


def test_the_follow_service_rides_out_a_broker_restart(lane: Lane) -> None:
    [kafka] = [s for s in manager.services() if s.name == "kafka"]
    writer = lane.writer(flush_seconds=0.5)
    thread = threading.Thread(target=writer.run, args=("follow",), kwargs={"max_seconds": 240})
    thread.start()
    try:
        lane.produce(observations(100, MIDNIGHT, timedelta(minutes=1)))
        _wait_for(lambda: writer.report.rows >= 100, 60, "the first 100 rows")
        kafka.stop()
        time.sleep(15)  # longer than the client's own reconnects: the loop itself must survive
        assert thread.is_alive()
        kafka.launch()
        kafka.wait_ready()
        lane.produce(observations(100, MIDNIGHT + timedelta(hours=3), timedelta(minutes=1)))
        _wait_for(lambda: writer.report.rows >= 200, 120, "the 100 rows sent after the restart")
        assert thread.is_alive() and writer.outages >= 1
    finally:
        writer.request_stop()
        thread.join(timeout=60)
        writer.close()
    table = lane.table()
    pairs = list(zip(table["kafka_partition"].to_pylist(), table["kafka_offset"].to_pylist(), strict=True))
    assert len(pairs) == len(set(pairs)) == 200
