"""Observations → Kafka: keyed by city, gzip, acks=all, idempotent; a send counts only once the broker confirmed it."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kafka import KafkaProducer

from weather_platform.sources.observation import Observation, kafka_key, to_json
from weather_platform.sources.openweather import FetchReport, OpenWeatherClient


def build_producer(bootstrap_servers: str, **overrides: object) -> KafkaProducer:
    config: dict[str, object] = {
        "bootstrap_servers": bootstrap_servers,
        "acks": "all",
        "enable_idempotence": True,
        "compression_type": "gzip",
        "linger_ms": 20,
        "batch_size": 256 * 1024,
        "max_request_size": 4 * 1024 * 1024,
        "client_id": "weather-platform-producer",
        **overrides,
    }
    return KafkaProducer(**config)


@dataclass(frozen=True)
class Delivery:
    key: str
    partition: int | None
    offset: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


def send_observations(
    producer: KafkaProducer, topic: str, observations: Iterable[Observation], timeout: float = 30.0
) -> list[Delivery]:
    """Send all, then wait for every acknowledgement; each observation gets its own outcome."""
    pending = [(kafka_key(o), producer.send(topic, key=kafka_key(o), value=to_json(o))) for o in observations]
    producer.flush(timeout=timeout)
    deliveries = []
    for key, future in pending:
        try:
            metadata = future.get(timeout=timeout)
            deliveries.append(Delivery(key.decode(), metadata.partition, metadata.offset, None))
        except Exception as exc:  # a KafkaError or timeout: reported per record, never raised for the batch
            deliveries.append(Delivery(key.decode(), None, None, f"{type(exc).__name__}: {exc}"))
    return deliveries


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
    client: OpenWeatherClient, producer: KafkaProducer, topic: str, cities: Sequence[str]
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
