"""Observations → Kafka: keyed by city, gzip, acks=all, idempotent; a send counts only once the broker confirmed it.

Two clients behind one interface, chosen by KAFKA_CLIENT: confluent-kafka (librdkafka; the default: about 3.5x the
messages per second of kafka-python here, docs/DESIGN.md §8) and kafka-python (pure Python, as the rest of the
platform's Kafka code). Both send with the same settings and report one outcome per observation.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from weather_platform.sources.observation import Observation, kafka_key, to_json
from weather_platform.sources.openweather import FetchReport, OpenWeatherClient

KafkaClient = Literal["confluent-kafka", "kafka-python"]
CLIENT_ID = "weather-platform-producer"
_LIBRDKAFKA_LOG = logging.getLogger("weather_platform.librdkafka")  # its broker messages, through logging
LINGER_MS = 20
BATCH_BYTES = 256 * 1024
MAX_REQUEST_BYTES = 4 * 1024 * 1024
# How long a kafka-python client tries to reach Kafka when it starts (its default is 30 s): a service started during
# an outage says so within seconds, then keeps trying with backoff; a drain fails and Dagster retries the step.
BOOTSTRAP_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Delivery:
    key: str
    partition: int | None
    offset: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


# A Kafka key and value; a value that could not be written is the exception that says why (its own outcome).
Message = tuple[bytes, bytes | Exception]


def _refused(key: bytes, exc: Exception) -> Delivery:
    return Delivery(key.decode(), None, None, f"{type(exc).__name__}: {exc}")


class ObservationProducer(Protocol):
    """What the platform asks of a producer: send keyed messages, each with its own acknowledged outcome."""

    def send_all(self, topic: str, messages: Iterable[Message], timeout: float) -> list[Delivery]: ...
    def close(self, timeout: float = 10.0) -> None: ...


class KafkaPythonProducer:
    def __init__(self, bootstrap_servers: str) -> None:
        from kafka import KafkaProducer

        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers,
            acks="all",
            enable_idempotence=True,
            compression_type="gzip",
            linger_ms=LINGER_MS,
            batch_size=BATCH_BYTES,
            max_request_size=MAX_REQUEST_BYTES,
            client_id=CLIENT_ID,
            bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,  # a broker that is gone is said within seconds (default 30)
        )

    def send_all(self, topic: str, messages: Iterable[Message], timeout: float) -> list[Delivery]:
        pending: list[tuple[bytes, Any]] = []
        for key, value in messages:
            try:
                if isinstance(value, Exception):
                    raise value
                pending.append((key, self._producer.send(topic, key=key, value=value)))
            except Exception as exc:  # refused at once (e.g. too large): this record's outcome, not the batch's
                pending.append((key, exc))
        self._producer.flush(timeout=timeout)
        deliveries = []
        for key, future in pending:
            try:
                if isinstance(future, Exception):
                    raise future
                metadata = future.get(timeout=timeout)
                deliveries.append(Delivery(key.decode(), metadata.partition, metadata.offset, None))
            except Exception as exc:  # a KafkaError or timeout: reported per record, never raised for the batch
                deliveries.append(_refused(key, exc))
        return deliveries

    def close(self, timeout: float = 10.0) -> None:
        self._producer.close(timeout=timeout)


class ConfluentProducer:
    """librdkafka through confluent-kafka. Messages still queued when the timeout ends are purged (never sent later
    behind the caller's back) and reported as not delivered; a message already in flight then may or may not have
    been written, as with any client whose acknowledgement did not arrive."""

    def __init__(self, bootstrap_servers: str) -> None:
        from confluent_kafka import Producer

        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap_servers,
                "acks": "all",
                "enable.idempotence": True,
                "compression.type": "gzip",
                "linger.ms": LINGER_MS,
                "batch.size": BATCH_BYTES,
                "message.max.bytes": MAX_REQUEST_BYTES,
                "client.id": CLIENT_ID,
                "logger": _LIBRDKAFKA_LOG,
            }
        )

    def send_all(self, topic: str, messages: Iterable[Message], timeout: float) -> list[Delivery]:
        """Produce while the messages are made (librdkafka compresses and sends on its own threads meanwhile),
        then wait for every report."""
        keys: list[bytes] = []
        outcomes: list[Delivery | None] = []

        def reporter(index: int, key: bytes) -> Any:
            def on_delivery(error: Any, message: Any) -> None:
                if error is None:
                    outcomes[index] = Delivery(key.decode(), message.partition(), message.offset(), None)
                else:
                    outcomes[index] = Delivery(key.decode(), None, None, f"KafkaError: {error.str()}")

            return on_delivery

        deadline = time.monotonic() + timeout
        produce, poll = self._producer.produce, self._producer.poll
        for index, (key, value) in enumerate(messages):
            keys.append(key)
            outcomes.append(None)
            while True:
                try:
                    if isinstance(value, Exception):
                        raise value
                    produce(topic, value, key, on_delivery=reporter(index, key))
                    break
                except BufferError:  # the local queue is full: let deliveries drain it
                    if time.monotonic() > deadline:
                        outcomes[index] = Delivery(key.decode(), None, None, "BufferError: local queue full")
                        break
                    poll(0.05)
                except Exception as exc:  # refused at once (e.g. too large): this record's outcome, not the batch's
                    outcomes[index] = _refused(key, exc)
                    break
        remaining = self._producer.flush(max(0.0, deadline - time.monotonic()))
        if remaining:
            self._producer.purge()
            self._producer.flush(0)  # serves the purged messages' reports
        return [
            outcome or Delivery(key.decode(), None, None, f"KafkaTimeoutError: not acknowledged within {timeout} s")
            for outcome, key in zip(outcomes, keys, strict=True)
        ]

    def close(self, timeout: float = 10.0) -> None:
        self._producer.flush(timeout)
        self._producer.purge()
        self._producer.flush(0)


def build_producer(bootstrap_servers: str, client: KafkaClient = "confluent-kafka") -> ObservationProducer:
    if client == "kafka-python":
        return KafkaPythonProducer(bootstrap_servers)
    return ConfluentProducer(bootstrap_servers)


def send_observations(
    producer: ObservationProducer, topic: str, observations: Iterable[Observation], timeout: float = 30.0
) -> list[Delivery]:
    """Send all, then wait for every acknowledgement; each observation gets its own outcome (one that cannot be
    written as JSON, e.g. a NaN in an observation built by hand, fails alone)."""
    return producer.send_all(topic, _messages(observations), timeout)


def _messages(observations: Iterable[Observation]) -> Iterator[Message]:
    for observation in observations:
        key = kafka_key(observation)
        try:
            yield key, to_json(observation)
        except ValueError as exc:  # non-finite numbers, text that is not UTF-8
            yield key, exc


@dataclass
class CityOutcome:
    city: str
    sent: bool
    error: str | None
    attempts: int
    latency_seconds: float
    partition: int | None = None
    offset: int | None = None


@dataclass
class IngestionReport:
    cities: list[CityOutcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def sent(self) -> int:
        return sum(c.sent for c in self.cities)

    @property
    def failed(self) -> int:
        return sum(not c.sent for c in self.cities)


def ingest_round(
    client: OpenWeatherClient, producer: ObservationProducer, topic: str, cities: Sequence[str]
) -> IngestionReport:
    """One polling round: fetch every city (failures stay per city), then publish what was fetched."""
    started = time.monotonic()
    fetched: FetchReport = client.fetch_all(cities)
    deliveries = iter(send_observations(producer, topic, fetched.observations))
    report = IngestionReport()
    for result in fetched.results:
        if result.observation is None:
            report.cities.append(CityOutcome(result.city, False, result.error, result.attempts, result.latency_seconds))
            continue
        delivery = next(deliveries)
        report.cities.append(
            CityOutcome(
                result.city,
                delivery.ok,
                delivery.error,
                result.attempts,
                result.latency_seconds,
                delivery.partition,
                delivery.offset,
            )
        )
    report.seconds = time.monotonic() - started
    return report
