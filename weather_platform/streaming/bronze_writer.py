"""Kafka → bronze Parquet on S3, exactly once in effect (DESIGN.md §4.2).

For each batch and Kafka partition:
  1. an *intent* object names the bronze objects about to be written (write-ahead);
  2. the records are parsed; each lands in the folder of its own event day (a batch may cross midnight UTC),
     in an object named by (topic, partition, first offset, last offset); unreadable records go to the
     dead-letter topic with their reason, and the producer waits for the broker's acknowledgement;
  3. only then the consumer group commits the offsets after the batch; then the intent is removed.
A writer killed between 2 and 3 leaves an intent whose first offset is not committed: whoever gets the partition
next deletes the objects it names before re-reading from the committed offset, so no row is written twice, and
since offsets were not committed, none is lost. Dead letters of such a batch may be re-sent: their headers carry
the source coordinates for de-duplication.
"""

from __future__ import annotations

import io
import json
import logging
import time
import typing
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.structs import OffsetAndMetadata

from weather_platform.lake.layout import BronzeObject
from weather_platform.sources.observation import OBSERVATION_FIELDS, InvalidObservation, Observation, parse_observation
from weather_platform.streaming.dead_letter import DeadLetter

log = logging.getLogger(__name__)

Mode = Literal["drain", "follow"]
DEFAULT_GROUP = "weather-bronze-writer"
INTENT_PREFIX = "_bronze_writer"

_ARROW_TYPES = {int: pa.int64(), float: pa.float64(), str: pa.string()}
KAFKA_COLUMNS = [
    pa.field("kafka_topic", pa.string()),
    pa.field("kafka_partition", pa.int32()),
    pa.field("kafka_offset", pa.int64()),
    pa.field("kafka_timestamp", pa.timestamp("ms", tz="UTC")),
    pa.field("kafka_key", pa.string()),
    pa.field("raw_json", pa.string()),
    pa.field("bronze_object", pa.string()),
]


def _observation_schema() -> list[pa.Field]:
    hints = typing.get_type_hints(Observation)
    fields = []
    for name in OBSERVATION_FIELDS:
        kind = next(t for t in typing.get_args(hints[name]) or (hints[name],) if t is not type(None))
        fields.append(pa.field(name, _ARROW_TYPES[kind]))
    return fields


BRONZE_SCHEMA = pa.schema(_observation_schema() + KAFKA_COLUMNS)


class ObjectStore(typing.Protocol):
    """The subset of a boto3 S3 client the writer uses (so any S3 API works)."""

    def put_object(self, **kwargs: Any) -> Any: ...
    def get_object(self, **kwargs: Any) -> Any: ...
    def delete_objects(self, **kwargs: Any) -> Any: ...


@dataclass
class PartitionRange:
    partition: int
    first_offset: int
    last_offset: int
    rows: int
    dead_letters: int


@dataclass
class WriteReport:
    """What one run of the writer did; `days` maps each event day touched to its rows written."""

    rows: int = 0
    dead_letters: int = 0
    objects: list[str] = field(default_factory=list)
    ranges: list[PartitionRange] = field(default_factory=list)
    days: dict[date, int] = field(default_factory=lambda: defaultdict(int))
    recovered_objects: list[str] = field(default_factory=list)
    lag_after: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def messages(self) -> int:
        return self.rows + self.dead_letters


def event_day(observation: Observation) -> date:
    """The UTC day of the observation time — the folder it belongs to, whatever day it was consumed."""
    return datetime.fromisoformat(observation.timestamp).astimezone(UTC).date()


def to_parquet(columns: dict[str, list[Any]]) -> bytes:
    table = pa.Table.from_pydict(columns, schema=BRONZE_SCHEMA)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue()


class BronzeWriter:
    """Consumes the observation topic in a consumer group and writes bronze objects; see the module docstring."""

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        topic: str,
        dlq_topic: str,
        s3: ObjectStore,
        bucket: str,
        group_id: str = DEFAULT_GROUP,
        batch_size: int = 50_000,
        flush_seconds: float = 10.0,
        session_timeout_ms: int = 10_000,
        after_write: Callable[[], None] | None = None,
    ) -> None:
        self.topic, self.dlq_topic, self.group_id = topic, dlq_topic, group_id
        self.s3, self.bucket = s3, bucket
        self.batch_size, self.flush_seconds = batch_size, flush_seconds
        self._after_write = after_write  # a test hook: runs after objects are written, before the commit
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=10_000,
            fetch_max_bytes=64 * 1024 * 1024,
            max_partition_fetch_bytes=16 * 1024 * 1024,
            client_id=f"{group_id}-bronze",
            # a writer that died holds its partitions until its session expires: keep that short (default 45 s)
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=max(1000, session_timeout_ms // 4),
        )
        self.producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True, linger_ms=5
        )
        self._buffers: dict[TopicPartition, list[Any]] = defaultdict(list)
        self._ends: dict[TopicPartition, int] = {}
        self._assigned: set[TopicPartition] = set()
        self._revoked: set[TopicPartition] = set()
        self._assigned_once = False
        self._rebalancing = False  # between a revocation and the next assignment the assignment is empty
        self._stop_requested = False
        self.report = WriteReport()

    # -- group membership -------------------------------------------------------------------------------
    # kafka-python runs rebalance listeners on its IO thread, where blocking calls are not allowed; the
    # listener only records what changed, and the loop acts on it right after `poll` returns, before any
    # write. Rebalances only happen inside `poll`, so they never interleave with a batch being written.
    def _apply_rebalance(self) -> None:
        revoked, self._revoked = self._revoked, set()
        for tp in revoked:  # not written yet, so not committed: the next owner re-reads them
            self._buffers.pop(tp, None)
            self._ends.pop(tp, None)
        assigned, self._assigned = self._assigned, set()
        for tp in assigned:
            self._recover(tp)
        if assigned:
            self._ends.update(self.consumer.end_offsets(list(assigned)))

    def _intent_key(self, tp: TopicPartition) -> str:
        return f"{INTENT_PREFIX}/{self.group_id}/{tp.topic}/partition={tp.partition}.json"

    def _recover(self, tp: TopicPartition) -> None:
        """Delete the objects of a batch that was written but never committed (its writer died)."""
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=self._intent_key(tp))["Body"].read()
        except Exception as exc:
            if _is_missing(exc):
                return
            raise
        intent = json.loads(body)
        committed = self.consumer.committed(tp)
        if committed is None or intent["first_offset"] >= committed:
            keys = intent["objects"]
            if keys:
                self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys]})
            self.report.recovered_objects.extend(keys)
            log.warning(
                "partition %s: removed %d uncommitted bronze objects of a crashed batch", tp.partition, len(keys)
            )
        self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": self._intent_key(tp)}]})

    # -- the loop ---------------------------------------------------------------------------------------
    def run(self, mode: Mode = "drain", max_seconds: float | None = None) -> WriteReport:
        """`drain`: read up to the end offsets seen when partitions were assigned, then stop (Dagster);
        `follow`: keep consuming until `max_seconds` or an interrupt (the long-running service)."""
        started = time.monotonic()
        last_flush = started
        self.consumer.subscribe([self.topic], listener=_Listener(self))
        try:
            while True:
                polled = self.consumer.poll(timeout_ms=500)
                self._apply_rebalance()
                for tp, records in polled.items():
                    self._buffers[tp].extend(records)
                buffered = sum(len(r) for r in self._buffers.values())
                now = time.monotonic()
                caught_up = self._caught_up()
                if buffered and (buffered >= self.batch_size or caught_up or now - last_flush >= self.flush_seconds):
                    self._flush(dict(self._buffers))
                    self._buffers.clear()
                    last_flush = now
                if mode == "drain" and self._assigned_once and not self._rebalancing and caught_up and not buffered:
                    break
                if self._stop_requested or (max_seconds is not None and now - started >= max_seconds):
                    if buffered:
                        self._flush(dict(self._buffers))
                        self._buffers.clear()
                    break
            self.report.lag_after = self._lag()
        finally:
            self.report.seconds = time.monotonic() - started
        return self.report

    def request_stop(self) -> None:
        """Finish the current batch (written and committed) and return from `run`; safe from another thread."""
        self._stop_requested = True

    def assigned_partitions(self) -> set[int]:
        return {tp.partition for tp in self.consumer.assignment()}

    def close(self) -> None:
        self.consumer.close()
        self.producer.close()

    def _caught_up(self) -> bool:
        """Every assigned partition has been read up to the end offset seen at assignment."""
        assignment = self.consumer.assignment()
        return all(self.consumer.position(tp) >= self._ends.get(tp, 0) for tp in assignment)

    def _lag(self) -> dict[int, int]:
        assignment = list(self.consumer.assignment())
        if not assignment:
            return {}
        ends = self.consumer.end_offsets(assignment)
        return {tp.partition: max(0, ends[tp] - self.consumer.position(tp)) for tp in assignment}

    # -- one batch --------------------------------------------------------------------------------------
    def _flush(self, buffers: dict[TopicPartition, list[Any]]) -> None:
        commits: dict[TopicPartition, OffsetAndMetadata] = {}
        futures = []
        for tp, records in buffers.items():
            if not records:
                continue
            first, last = records[0].offset, records[-1].offset
            by_day, dead = _parse(records)
            objects = {day: BronzeObject(day, tp.topic, tp.partition, first, last).key for day in by_day}
            self._write_intent(tp, first, last, list(objects.values()))
            for day, columns in by_day.items():
                columns["bronze_object"] = [objects[day]] * len(columns["kafka_offset"])
                self.s3.put_object(Bucket=self.bucket, Key=objects[day], Body=to_parquet(columns))
                self.report.days[day] += len(columns["kafka_offset"])
            for letter in dead:
                futures.append(
                    self.producer.send(
                        self.dlq_topic,
                        key=(letter.key or "").encode() or None,
                        value=letter.to_json(),
                        headers=letter.headers(),
                    )
                )
            rows = len(records) - len(dead)
            self.report.rows += rows
            self.report.dead_letters += len(dead)
            self.report.objects.extend(objects.values())
            self.report.ranges.append(PartitionRange(tp.partition, first, last, rows, len(dead)))
            commits[tp] = OffsetAndMetadata(last + 1, "", -1)
        self.producer.flush()
        for future in futures:
            future.get(timeout=30)  # raises if the dead-letter topic did not acknowledge: nothing is committed
        if self._after_write is not None:
            self._after_write()
        self.consumer.commit(commits)
        for tp in commits:
            self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": self._intent_key(tp)}]})

    def _write_intent(self, tp: TopicPartition, first: int, last: int, keys: list[str]) -> None:
        intent = {"first_offset": first, "last_offset": last, "objects": keys, "written_at": time.time()}
        self.s3.put_object(Bucket=self.bucket, Key=self._intent_key(tp), Body=json.dumps(intent).encode())


class _Listener(ConsumerRebalanceListener):
    def __init__(self, writer: BronzeWriter) -> None:
        self.writer = writer

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.writer._rebalancing = True
        self.writer._revoked.update(revoked)
        self.writer._assigned.difference_update(revoked)

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.writer._assigned.update(assigned)
        self.writer._assigned_once = True
        self.writer._rebalancing = False


def _parse(records: list[Any]) -> tuple[dict[date, dict[str, list[Any]]], list[DeadLetter]]:
    """Valid records as columns per event day, and the others as dead letters with their reason."""
    by_day: dict[date, dict[str, list[Any]]] = {}
    dead: list[DeadLetter] = []
    for record in records:
        try:
            observation = parse_observation(record.value or b"")
            day = event_day(observation)
        except InvalidObservation as exc:
            dead.append(DeadLetter.of(record, exc.reason))
            continue
        except ValueError as exc:
            dead.append(DeadLetter.of(record, f"invalid timestamp: {exc}"))
            continue
        columns = by_day.get(day)
        if columns is None:
            columns = by_day[day] = {name: [] for name in BRONZE_SCHEMA.names}
        for name in OBSERVATION_FIELDS:
            columns[name].append(getattr(observation, name))
        columns["kafka_topic"].append(record.topic)
        columns["kafka_partition"].append(record.partition)
        columns["kafka_offset"].append(record.offset)
        columns["kafka_timestamp"].append(record.timestamp)
        columns["kafka_key"].append(record.key.decode("utf-8", errors="replace") if record.key is not None else None)
        columns["raw_json"].append(record.value.decode("utf-8"))
    return by_day, dead


def _is_missing(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code") if hasattr(exc, "response") else None
    return code in {"NoSuchKey", "404", "NotFound"}
