"""Kafka → bronze Parquet on S3, exactly once in effect (docs/DESIGN.md §4.2).

For each batch and Kafka partition:
  1. the records are parsed; an *intent* object names the bronze objects about to be written (write-ahead);
  2. each record lands in the folder of its own event day (a batch may cross midnight UTC), in an object named by
     (topic, partition, first offset, last offset); unreadable records go to the dead-letter topic with their
     reason, and the producer waits for the broker's acknowledgement;
  3. only then the consumer group commits the offsets after the batch; then the intent is removed.
The parse and the S3 writes of steps 1 and 2 run on a writer thread while the consumer polls the next batch (Arrow
reads a producer's batch outside the GIL, `sources/observation_columns.py`); the commit, the dead letters and every
call on the consumer stay on the consumer's thread, and one batch at most is in flight. A rebalance waits for the
batch in flight before the partitions are given up.
A writer killed between 2 and 3 leaves an intent whose first offset is not committed: whoever gets the partition
next deletes the objects it names before re-reading from the committed offset, so no row is written twice, and
since offsets were not committed, none is lost. Dead letters of such a batch may be re-sent: their headers carry
the source coordinates for de-duplication.

One record never stops a partition: everything done to a record after the poll (decoding, the contract, the
event day, the conversion to Arrow) is inside a per-record error boundary, and whatever fails there goes to
the dead-letter topic with its reason. A writer that may have lost its partitions (the group is rebalancing, or
it was paused past its session timeout: a GC pause, SIGSTOP, a slow S3) stops writing before the next object
and drops its batch; the new owner re-reads it. An object such a zombie wrote in the instant before it noticed
stays beside the new owner's; `bronze_store.repair_day` removes it (content-aware, committed range only).
In follow mode an outage of Kafka or S3 does not end the service: it backs off, re-reads from the committed
offsets and goes on by itself.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import typing
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import CommitFailedError
from kafka.structs import MemberState, OffsetAndMetadata

from weather_platform.lake.layout import BronzeObject
from weather_platform.schema import BRONZE_SCHEMA, LINEAGE
from weather_platform.sources.observation import (
    MAX_KEY_BYTES,
    OBSERVATION_FIELDS,
    InvalidObservation,
    Observation,
    check_key,
    field_values,
    parse_observation,
)
from weather_platform.sources.observation_columns import observation_columns
from weather_platform.sources.observation_columns import prepare as observation_columns_prepare
from weather_platform.streaming.dead_letter import DeadLetter
from weather_platform.streaming.producer import BOOTSTRAP_TIMEOUT_MS

log = logging.getLogger(__name__)

Mode = Literal["drain", "follow"]
DEFAULT_GROUP = "weather-bronze-writer"
INTENT_PREFIX = "_bronze_writer"
# User metadata of a bronze object: the id of the intent it was put under (what a recovery may delete).
INTENT_METADATA = "bronze-intent"

# The Kafka coordinates, the raw record and the object name, as the schema contract types them.
KAFKA_COLUMNS = [pa.field(c.name, c.bronze) for c in LINEAGE if c.bronze is not None]


class ObjectStore(typing.Protocol):
    """The subset of a boto3 S3 client the writer uses (so any S3 API works)."""

    def put_object(self, **kwargs: Any) -> Any: ...
    def get_object(self, **kwargs: Any) -> Any: ...
    def head_object(self, **kwargs: Any) -> Any: ...
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


def to_parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue()


class Fenced(RuntimeError):
    """This writer may no longer own the partitions of its batch: nothing more of the batch is written."""


class FreezeWatch:
    """Notices when the whole process was frozen (SIGSTOP, a VM pause, swapping) for `threshold` seconds.

    A daemon thread ticks every 0.25 s; a gap between two ticks longer than the threshold can only mean that
    no thread of the process ran meanwhile, heartbeats included. `freezes` counts such gaps for good, so a
    batch compares the count at its start with the count before each write, whatever happened since.
    """

    def __init__(self, threshold: float) -> None:
        self.threshold, self.freezes, self.longest = threshold, 0, 0.0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="bronze-freeze-watch", daemon=True)
        self._thread.start()

    def _tick(self) -> None:
        last = time.monotonic()
        while not self._stopped.wait(0.25):
            now = time.monotonic()
            if now - last > self.threshold:
                self.longest = max(self.longest, now - last)
                self.freezes += 1
            last = now

    def stop(self) -> None:
        self._stopped.set()


# Outages the follow service rides out: the broker or S3 gone, a timeout, a refused connection.
_OUTAGE_MODULES = ("kafka", "botocore", "urllib3", "boto3", "s3transfer")
OUTAGE_BACKOFF_MAX = 30.0
# A follow service that has heard nothing for this long asks the broker for its end offsets: a broker that is gone
# is then reported (and ridden out) like any outage, instead of the service sitting silent through it.
IDLE_PROBE_SECONDS = 5


def outage_backoff() -> Iterator[float]:
    """The waits between tries while a service is down, for the writer and for the service's start alike: 1 s,
    doubling, at most OUTAGE_BACKOFF_MAX (a restarted service is found within half a minute)."""
    delay = 1.0
    while True:
        yield delay
        delay = min(delay * 2, OUTAGE_BACKOFF_MAX)


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
        earliest_day: date | None = None,
    ) -> None:
        self.topic, self.dlq_topic, self.group_id = topic, dlq_topic, group_id
        self.s3, self.bucket = s3, bucket
        self.batch_size, self.flush_seconds = batch_size, flush_seconds
        self.earliest_day = earliest_day  # records of earlier days belong to no partition: dead letters
        self.bootstrap_servers = bootstrap_servers
        self.session_timeout = session_timeout_ms / 1000
        self._watch = FreezeWatch(threshold=self.session_timeout / 2)
        try:
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
                bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
            )
            self.producer = KafkaProducer(
                bootstrap_servers=bootstrap_servers,
                acks="all",
                enable_idempotence=True,
                linger_ms=5,
                bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
            )
        except BaseException:  # Kafka down at start: the service tries again, without this attempt's threads
            self._watch.stop()
            if hasattr(self, "consumer"):
                self.consumer.close(timeout_ms=0)
            raise
        observation_columns_prepare()
        self._buffers: dict[TopicPartition, list[Any]] = defaultdict(list)
        self._ends: dict[TopicPartition, int] = {}
        self._assigned: set[TopicPartition] = set()
        self._revoked: set[TopicPartition] = set()
        self._assigned_once = False
        self._rebalancing = False  # between a revocation and the next assignment the assignment is empty
        self._stop_requested = False
        self._writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bronze-write")
        self._in_flight: _Batch | None = None
        # Partitions a batch of which may be written and not committed, with the id of the intent that names it.
        self._abandoned: dict[TopicPartition, str] = {}
        self.report = WriteReport()
        self.outages = 0  # outages ridden out in follow mode
        self.fenced_batches = 0  # batches dropped because the partitions may have moved on

    # -- group membership -------------------------------------------------------------------------------
    # kafka-python runs rebalance listeners on its IO thread, where blocking calls are not allowed; the
    # listener only records what changed, and the loop acts on it right after `poll` returns, before any
    # write. Rebalances only happen inside `poll`, so they never interleave with a batch being written.
    def _apply_rebalance(self) -> dict[TopicPartition, int]:
        """Drop the buffers of revoked partitions and start every (re)assigned one at its committed offset; the
        partitions to read again, with the offset each restarts from. A partition revoked and handed straight back
        to this writer (an eager rebalance) keeps the consumer's fetch position, past the records just dropped from
        the buffer: without the seek, they would be skipped until the next writer starts."""
        revoked, self._revoked = self._revoked, set()
        for tp in revoked:  # not written yet, so not committed: the next owner re-reads them
            self._buffers.pop(tp, None)
            self._ends.pop(tp, None)
            self._abandoned.pop(tp, None)  # whoever is assigned it recovers it
        assigned, self._assigned = self._assigned, set()
        for tp in assigned:
            self._recover(tp)
            self._buffers.pop(tp, None)
            self._abandoned.pop(tp, None)
        starts = self._seek_committed(assigned)
        if assigned:
            self._ends.update(self.consumer.end_offsets(list(assigned)))
        return starts

    def _seek_committed(self, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        """Move each partition's position to its committed offset (the log's beginning when none is committed);
        the offsets moved to."""
        partitions = list(partitions)
        starts: dict[TopicPartition, int] = {}
        uncommitted = []
        for tp in partitions:
            committed = self.consumer.committed(tp)
            if committed is None:
                uncommitted.append(tp)
            else:
                starts[tp] = committed
        if uncommitted:
            starts.update(self.consumer.beginning_offsets(uncommitted))
        for tp, offset in starts.items():
            self.consumer.seek(tp, offset)
        return starts

    def _intent_key(self, tp: TopicPartition) -> str:
        return f"{INTENT_PREFIX}/{self.group_id}/{tp.topic}/partition={tp.partition}.json"

    def _recover(self, tp: TopicPartition, written_by: str | None = None) -> None:
        """Delete the objects of a batch that was written but never committed (its writer died, or its commit was
        refused). `written_by`: only if the partition's intent is still the one of that id, this writer's own; any
        other means another writer has owned the partition since (its recovery removed that intent, its batches
        write their own), and its objects, named by the same coordinates, are not this writer's to delete. Of the
        intent's objects, only those its batch put are deleted (each object carries the id of the intent it was
        put under): one a later writer put again under the same name is that writer's, whoever reads the intent."""
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=self._intent_key(tp))["Body"].read()
        except Exception as exc:
            if _is_missing(exc):
                return
            raise
        intent = json.loads(body)
        if written_by is not None and intent.get("id") != written_by:
            return
        committed = self.consumer.committed(tp)
        if committed is None or intent["first_offset"] >= committed:
            keys = [key for key in intent["objects"] if self._put_under(key, intent.get("id"))]
            if keys:
                self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys]})
            self.report.recovered_objects.extend(keys)
            log.warning(
                "partition %s: removed %d of the %d bronze objects of intent %s (offsets %d-%d, written and never "
                "committed; committed offset %s)",
                tp.partition,
                len(keys),
                len(intent["objects"]),
                intent.get("id", "without id"),
                intent["first_offset"],
                intent["last_offset"],
                committed,
            )
        self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": self._intent_key(tp)}]})

    def _put_under(self, key: str, intent_id: str | None) -> bool:
        """Whether the object `key` is there as the batch of that intent put it (an intent without id, from an
        older writer: whatever object has the name)."""
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if _is_missing(exc):
                return False
            raise
        return intent_id is None or head.get("Metadata", {}).get(INTENT_METADATA) == intent_id

    # -- the loop ---------------------------------------------------------------------------------------
    def run(self, mode: Mode = "drain", max_seconds: float | None = None) -> WriteReport:
        """`drain`: read up to the end offsets seen when partitions were assigned, then stop (Dagster);
        `follow`: keep consuming until `max_seconds` or an interrupt (the long-running service), riding out
        outages of Kafka and S3 with backoff."""
        started = time.monotonic()
        self.consumer.subscribe([self.topic], listener=_Listener(self))
        if mode == "drain":
            self._await_topic_metadata()
        delays = outage_backoff()
        try:
            while True:
                attempt = time.monotonic()
                try:
                    done = self._run_until_done(mode, started, max_seconds)
                    if done:
                        break
                except (Fenced, CommitFailedError) as exc:
                    self.fenced_batches += 1
                    log.warning("bronze batch dropped, the partitions may have moved to another writer: %s", exc)
                    self._rewind()
                except Exception as exc:
                    if mode != "follow" or not _is_outage(exc):
                        raise
                    self.outages += 1
                    if time.monotonic() - attempt > OUTAGE_BACKOFF_MAX:  # a new outage after a healthy spell
                        delays = outage_backoff()
                    delay = next(delays)
                    log.warning(
                        "%s unavailable (%s: %s); retrying in %.0f s, from the committed offsets",
                        _service_name(exc, self.bootstrap_servers),
                        type(exc).__name__,
                        str(exc)[:200],
                        delay,
                    )
                    self._wait(delay, started, max_seconds)
                    self._rewind()
                    if self._stop_requested or _expired(started, max_seconds):
                        break
            try:
                self.report.lag_after = self._lag(timeout_ms=IDLE_PROBE_SECONDS * 1000 if mode == "follow" else None)
            except Exception as exc:  # a service stopped during an outage does not wait for the broker to say it
                if mode != "follow" or not _is_outage(exc):
                    raise
                log.warning("lag at the stop unknown: %s", exc)
        finally:
            self._abandon_in_flight()  # nothing of this run is written after it returns
            self.report.seconds = time.monotonic() - started
        return self.report

    def _await_topic_metadata(self, timeout: float = 10.0) -> None:
        """Fetch the topic's partitions after subscribing and before joining the group. Before joining: a drain that
        joins while a just-created topic's metadata is still unknown is assigned nothing and would end at once,
        leaving the topic's records for later. After subscribing: kafka-python compares the partitions it assigned
        with the metadata it has heard of since the subscription (for a named topic it waits for none), so the
        first metadata update after the join would start a second rebalance, and the records of the first poll
        would be read again (a tenth of a 100,000-record drain)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.consumer.topics()  # always a metadata request, whose answer the group coordinator hears of
            if self.consumer.partitions_for_topic(self.topic):
                return
            time.sleep(0.2)

    def _run_until_done(self, mode: Mode, started: float, max_seconds: float | None) -> bool:
        """Poll and write batches; True when the run is over, False never (errors leave by exception)."""
        last_flush = last_heard = time.monotonic()
        while True:
            polled = self.consumer.poll(timeout_ms=500)
            if self._in_flight is not None and (self._revoked or self._assigned or self._rebalancing):
                self._finish_in_flight()  # the group moved on during the poll: the fence drops the batch
            restarts = self._apply_rebalance()
            for tp, records in polled.items():
                if tp in restarts:  # fetched before the partition was (re)assigned
                    if not records or records[0].offset != restarts[tp]:
                        continue  # not from its commit: read again from there
                    self.consumer.seek(tp, records[-1].offset + 1)  # exactly what the restart reads: keep them
                self._buffers[tp].extend(records)
            if self._in_flight is not None and self._in_flight.written.done():
                self._finish_in_flight()
            buffered = sum(len(r) for r in self._buffers.values())
            now = time.monotonic()
            caught_up = self._caught_up()
            if buffered and (buffered >= self.batch_size or caught_up or now - last_flush >= self.flush_seconds):
                self._flush_buffers()
                last_flush, buffered = now, 0
            if mode == "drain" and self._assigned_once and not self._rebalancing and caught_up and not buffered:
                self._finish_in_flight()
                return True
            if polled or buffered:
                last_heard = now
            elif mode == "follow" and now - last_heard >= IDLE_PROBE_SECONDS:
                self._lag(timeout_ms=IDLE_PROBE_SECONDS * 1000)  # raises if Kafka is gone: say so, don't sit silent
                last_heard = now
            if self._stop_requested or _expired(started, max_seconds):
                if buffered:
                    self._flush_buffers()
                self._finish_in_flight()
                return True

    def _flush_buffers(self) -> None:
        """Commit the batch in flight, then parse the buffered records and start writing them."""
        try:
            self._finish_in_flight()
            self._in_flight = self._start(dict(self._buffers))
        finally:
            self._buffers.clear()

    def _rewind(self) -> None:
        """After a dropped batch: read again from the committed offset of every partition still assigned."""
        self._buffers.clear()
        self._abandon_in_flight()
        try:
            self._seek_committed(self.consumer.assignment())
        except Exception as exc:  # still down: the next poll fails again and backs off again
            log.debug("rewind failed: %s", exc)

    def _wait(self, seconds: float, started: float, max_seconds: float | None) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._stop_requested and not _expired(started, max_seconds):
            time.sleep(0.2)

    def request_stop(self) -> None:
        """Finish the current batch (written and committed) and return from `run`; safe from another thread."""
        self._stop_requested = True

    def committed_offsets(self) -> dict[tuple[str, int], int]:
        """The group's committed offset of every partition of the topic (what `repair_day` may rely on)."""
        partitions = self.consumer.partitions_for_topic(self.topic) or set()
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        committed = {tp: self.consumer.committed(tp) for tp in tps}
        return {(tp.topic, tp.partition): offset for tp, offset in committed.items() if offset is not None}

    def assigned_partitions(self) -> set[int]:
        return {tp.partition for tp in self.consumer.assignment()}

    def close(self, timeout: float = 10.0) -> None:
        """Leave the group and close the clients, bounded: kafka-python's producer would otherwise wait forever for
        a broker that is gone. Nothing committed is at stake (a batch's offsets are committed after its write)."""
        self._watch.stop()
        self._abandon_in_flight(timeout)
        self._writes.shutdown(wait=False, cancel_futures=True)
        self.consumer.close(timeout_ms=int(timeout * 1000))
        self.producer.close(timeout=timeout)

    def _caught_up(self) -> bool:
        """Every assigned partition has been read up to the end offset seen at assignment."""
        assignment = self.consumer.assignment()
        return all(self.consumer.position(tp) >= self._ends.get(tp, 0) for tp in assignment)

    def _lag(self, timeout_ms: float | None = None) -> dict[int, int]:
        assignment = list(self.consumer.assignment())
        if not assignment:
            return {}
        ends = self.consumer.end_offsets(assignment, timeout_ms=timeout_ms)
        return {tp.partition: max(0, ends[tp] - self.consumer.position(tp)) for tp in assignment}

    # -- one batch --------------------------------------------------------------------------------------
    def _check_fence(self, generation: int, freezes: int) -> None:
        """Raise Fenced when this writer may have lost its partitions since the batch was polled: the process
        was frozen for a large part of its session timeout (the group may have moved on while kafka-python
        has not heard of it yet: on resuming it looks the coordinator up and seems healthy for a moment),
        or the group is rebalancing or in another generation."""
        if self._watch.freezes != freezes:
            raise Fenced(f"the process was frozen for {self._watch.longest:.1f} s during the batch")
        member = self.consumer.group_metadata()
        if member.state != MemberState.STABLE or member.generation_id != generation:  # states are plain strings
            raise Fenced(f"group generation {member.generation_id} ({member.state}), batch of {generation}")

    def _start(self, buffers: dict[TopicPartition, list[Any]]) -> _Batch | None:
        """Hand the buffered records to the writer thread, which parses and writes them (see `_write`)."""
        batch = _Batch(self.consumer.group_metadata().generation_id, self._watch.freezes)
        for tp, records in buffers.items():
            if not records:
                continue
            intent = self._abandoned.pop(tp, None)
            if intent is not None:  # an earlier batch may have left objects the same records are about to fill
                self._recover(tp, written_by=intent)
            batch.parts.append(_Part(tp, records[0].offset, records[-1].offset, records))
        if not batch.parts:
            return None
        batch.written = self._writes.submit(self._write, batch)
        return batch

    def _write(self, batch: _Batch) -> None:
        """Parse the batch, then put its intents and objects (writer thread), each put only while the fence holds."""
        for part in batch.parts:
            part.tables, part.dead = _parse(part.records, self.earliest_day)
            part.rows = len(part.records) - len(part.dead)
            part.objects = {
                day: BronzeObject(day, part.tp.topic, part.tp.partition, part.first, part.last).key
                for day in part.tables
            }
            part.records = []
        for part in batch.parts:
            self._check_fence(batch.generation, batch.freezes)
            part.intent = self._write_intent(part.tp, part.first, part.last, list(part.objects.values()))
            for day, table in part.tables.items():
                self._check_fence(batch.generation, batch.freezes)
                table = table.append_column(
                    "bronze_object", pa.array([part.objects[day]] * table.num_rows, pa.string())
                )
                self.s3.put_object(
                    Bucket=self.bucket,
                    Key=part.objects[day],
                    Body=to_parquet(table),
                    Metadata={INTENT_METADATA: part.intent},
                )

    def _finish_in_flight(self) -> None:
        """Wait for the batch in flight to be written, send its dead letters and, once the broker has them and the
        fence still holds, commit its offsets (consumer thread). A batch that fails here is dropped: its
        partitions are marked for recovery before they are written again."""
        batch, self._in_flight = self._in_flight, None
        if batch is None:
            return
        try:
            batch.written.result()
            futures = [
                self.producer.send(
                    self.dlq_topic,
                    key=(letter.key or "").encode() or None,
                    value=letter.to_json(),
                    headers=letter.headers(),
                )
                for part in batch.parts
                for letter in part.dead
            ]
            self.producer.flush()
            for future in futures:
                future.get(timeout=30)  # raises if the dead-letter topic did not acknowledge: nothing is committed
            self._check_fence(batch.generation, batch.freezes)
            self.consumer.commit({part.tp: OffsetAndMetadata(part.last + 1, "", -1) for part in batch.parts})
        except BaseException:
            self._abandoned.update(_intents(batch))
            raise
        for part in batch.parts:
            self.report.rows += part.rows
            self.report.dead_letters += len(part.dead)
            self.report.objects.extend(part.objects.values())
            self.report.ranges.append(
                PartitionRange(part.tp.partition, part.first, part.last, part.rows, len(part.dead))
            )
            for day, table in part.tables.items():
                self.report.days[day] += table.num_rows
        keys = [{"Key": self._intent_key(part.tp)} for part in batch.parts]
        self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})

    def _abandon_in_flight(self, timeout: float | None = None) -> None:
        """Drop the batch in flight uncommitted, once its write is over (at most `timeout` seconds)."""
        batch, self._in_flight = self._in_flight, None
        if batch is not None:
            wait_for([batch.written], timeout=timeout)
            self._abandoned.update(_intents(batch))

    def await_write(self, timeout: float) -> None:
        """Wait (at most `timeout` seconds) for the batch in flight to be written: before its partitions are
        given up, so that no object of theirs is put after the next owner has recovered them."""
        batch = self._in_flight
        if batch is not None:
            wait_for([batch.written], timeout=timeout)

    def _write_intent(self, tp: TopicPartition, first: int, last: int, keys: list[str]) -> str:
        """Put the partition's intent; its id."""
        written_by = uuid.uuid4().hex
        intent = {
            "id": written_by,
            "first_offset": first,
            "last_offset": last,
            "objects": keys,
            "written_at": time.time(),
        }
        self.s3.put_object(Bucket=self.bucket, Key=self._intent_key(tp), Body=json.dumps(intent).encode())
        return written_by


def _intents(batch: _Batch) -> dict[TopicPartition, str]:
    """The intents a dropped batch put (a part without one put no object either)."""
    return {part.tp: part.intent for part in batch.parts if part.intent is not None}


@dataclass
class _Part:
    """One partition's share of a batch: its offsets and records; once parsed, its rows per event day, the objects
    they go to and its dead letters."""

    tp: TopicPartition
    first: int
    last: int
    records: list[Any]
    tables: dict[date, pa.Table] = field(default_factory=dict)
    objects: dict[date, str] = field(default_factory=dict)
    dead: list[DeadLetter] = field(default_factory=list)
    rows: int = 0
    intent: str | None = None  # the id of the intent put for it


@dataclass
class _Batch:
    """A batch between its parse and its commit: the group generation and freeze count it was polled in."""

    generation: int
    freezes: int
    parts: list[_Part] = field(default_factory=list)
    written: Future[None] = field(default_factory=Future)


class _Listener(ConsumerRebalanceListener):
    def __init__(self, writer: BronzeWriter) -> None:
        self.writer = writer

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.writer._rebalancing = True
        self.writer.await_write(timeout=self.writer.session_timeout / 4)  # bounded: heartbeats wait meanwhile
        self.writer._revoked.update(revoked)
        self.writer._assigned.difference_update(revoked)

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.writer._assigned.update(assigned)
        self.writer._assigned_once = True
        self.writer._rebalancing = False


_ROW_SCHEMA = pa.schema([f for f in BRONZE_SCHEMA if f.name != "bronze_object"])


def _parse(records: list[Any], earliest_day: date | None = None) -> tuple[dict[date, pa.Table], list[DeadLetter]]:
    """Valid records as one Arrow table per event day (in record order), and the others as dead letters with their
    reason.

    The batch is first checked column by column (`observation_columns`); each record that path does not vouch for
    passes `parse_observation` in its own error boundary: whatever goes wrong with one (the contract, its key, its
    day, or anything unforeseen) makes it a dead letter and never fails the batch.
    """
    try:
        fast, slow = _fast_rows(records, earliest_day)
    except Exception:  # a shortcut only: whatever it trips over, the record path judges record by record
        log.warning("the columnar check failed on a batch of %d records; checking them one by one", len(records))
        fast, slow = {}, records
    rows: dict[date, list[Any]] = defaultdict(list)
    dead: list[DeadLetter] = []
    for record in slow:
        try:
            row, day = _row(record, earliest_day)
        except InvalidObservation as exc:
            dead.append(DeadLetter.of(record, exc.reason))
            continue
        except Exception as exc:
            dead.append(DeadLetter.of(record, f"unprocessable record: {type(exc).__name__}: {exc}"))
            continue
        rows[day].append((record, row))
    tables: dict[date, pa.Table] = {}
    for day in sorted(fast.keys() | rows.keys()):
        table, rejected = _to_table(rows[day]) if rows[day] else (None, [])
        dead.extend(rejected)
        parts = [t for t in (fast.get(day), table) if t is not None and t.num_rows]
        if len(parts) == 1:
            tables[day] = parts[0]
        elif parts:
            tables[day] = pa.concat_tables(parts).sort_by(
                [("kafka_partition", "ascending"), ("kafka_offset", "ascending")]
            )
    return tables, dead


def _fast_rows(records: list[Any], earliest_day: date | None) -> tuple[dict[date, pa.Table], list[Any]]:
    """The rows of the records the columnar checks vouch for (their key too, and their day), as one table per event
    day, and the other records, for the record-by-record path."""
    values = [record.value or b"" for record in records]
    checked = observation_columns(values)
    days = checked.observed_at.cast(pa.date32()).cast(pa.int32())  # the UTC day, as days since 1970
    accepted = checked.accepted
    if earliest_day is not None:  # an earlier day belongs to no partition: the record path says so
        accepted = pc.and_(accepted, pc.fill_null(pc.greater_equal(days, (earliest_day - _EPOCH).days), False))
    keys, key_ok = _checked_keys([record.key for record in records])
    accepted = pc.and_(accepted, key_ok)
    taken = pc.indices_nonzero(accepted)
    everyone = len(taken) == len(records)
    slow = [] if everyone else [record for record, ok in zip(records, accepted.to_pylist(), strict=True) if not ok]
    if not len(taken):
        return {}, slow

    def kept(column: pa.Array) -> pa.Array:
        return column if everyone else column.take(taken)

    columns = [kept(checked.arrays[name]) for name in OBSERVATION_FIELDS]
    columns += [
        kept(pa.array([r.topic for r in records], pa.string())),
        kept(pa.array([r.partition for r in records], pa.int32())),
        kept(pa.array([r.offset for r in records], pa.int64())),
        kept(pa.array([r.timestamp for r in records], _ROW_SCHEMA.field("kafka_timestamp").type)),
        kept(keys),
        kept(pa.array(values, pa.binary())).cast(pa.string()),  # UTF-8: Arrow or orjson parsed it
    ]
    table = pa.Table.from_arrays(columns, schema=_ROW_SCHEMA)
    day_of_row = kept(days)
    return {
        _EPOCH + timedelta(days=day): table.filter(pc.equal(day_of_row, day))
        for day in pc.unique(day_of_row).to_pylist()
    }, slow


_EPOCH = date(1970, 1, 1)


def _checked_keys(keys: list[bytes | None]) -> tuple[pa.Array, pa.Array]:
    """The Kafka keys as text and where `check_key` would accept them unchanged (absent, or UTF-8 without NUL within
    MAX_KEY_BYTES); a batch with any other key is left to `check_key` record by record."""
    raw = pa.array(keys, pa.binary())
    try:
        text = raw.cast(pa.string())
    except pa.ArrowInvalid:  # not UTF-8 somewhere
        return pa.nulls(len(keys), pa.string()), pa.array([False] * len(keys), pa.bool_())
    fits = pc.and_(pc.less_equal(pc.binary_length(raw), MAX_KEY_BYTES), pc.invert(pc.match_substring(text, "\x00")))
    return text, pc.or_kleene(pc.is_null(raw), pc.fill_null(fits, False))


def _row(record: Any, earliest_day: date | None) -> tuple[list[Any], date]:
    """One record's bronze values (in _ROW_SCHEMA order) and its event day, or an exception saying why not."""
    observation = parse_observation(record.value or b"")
    day = event_day(observation)
    if earliest_day is not None and day < earliest_day:
        raise InvalidObservation(
            f"observation day {day} is before the first partition day {earliest_day} (WEATHER_PARTITIONS_START)"
        )
    key = check_key(record.key)
    values = list(field_values(observation))
    values += [record.topic, record.partition, record.offset, record.timestamp, key, record.value.decode("utf-8")]
    return values, day


def _to_table(day_rows: list[tuple[Any, list[Any]]]) -> tuple[pa.Table | None, list[DeadLetter]]:
    """The rows as an Arrow table; should the batch not convert, each row is converted alone and the ones
    that fail become dead letters (the contract should have caught them: this is the last line)."""
    columns = list(zip(*(row for _, row in day_rows), strict=True))
    try:
        return pa.Table.from_arrays([pa.array(c, f.type) for c, f in zip(columns, _ROW_SCHEMA, strict=True)],
                                    schema=_ROW_SCHEMA), []  # fmt: skip
    except Exception:
        log.warning("a bronze batch did not convert to Arrow; converting its %d rows one by one", len(day_rows))
    kept: list[pa.Table] = []
    dead: list[DeadLetter] = []
    for record, row in day_rows:
        try:
            kept.append(pa.Table.from_arrays([pa.array([v], f.type) for v, f in zip(row, _ROW_SCHEMA, strict=True)],
                                             schema=_ROW_SCHEMA))  # fmt: skip
        except Exception as exc:
            dead.append(DeadLetter.of(record, f"cannot be stored in bronze: {type(exc).__name__}: {exc}"))
    return (pa.concat_tables(kept) if kept else None), dead


def _is_outage(exc: BaseException) -> bool:
    """An error from a client library that a restarted service will cure (not a bug of ours)."""
    for candidate in (exc, exc.__cause__, exc.__context__):
        if candidate is not None and type(candidate).__module__.split(".")[0] in _OUTAGE_MODULES:
            return True
        if isinstance(candidate, ConnectionError | TimeoutError):
            return True
    return False


def _service_name(exc: BaseException, bootstrap_servers: str) -> str:
    return f"Kafka at {bootstrap_servers}" if type(exc).__module__.startswith("kafka") else "S3"


def _expired(started: float, max_seconds: float | None) -> bool:
    return max_seconds is not None and time.monotonic() - started >= max_seconds


def _is_missing(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code") if hasattr(exc, "response") else None
    return code in {"NoSuchKey", "404", "NotFound"}
