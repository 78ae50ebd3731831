"""The observation producer with both clients (KAFKA_CLIENT) on the real broker: every record acknowledged once with
its own partition and offset, read back unchanged; a record the broker refuses or a broker that is gone is reported
per record within the timeout, never raised for the batch."""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import NewTopic

from weather_platform.settings import Settings
from weather_platform.sources.observation import Observation, kafka_key, to_json
from weather_platform.streaming.producer import KafkaClient, build_producer, send_observations

CLIENTS: list[KafkaClient] = ["confluent-kafka", "kafka-python"]


def _observations(n: int) -> list[Observation]:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    return [
        Observation(
            source="test",
            city=f"City {i % 7}",
            country="GB",
            latitude=51.5,
            longitude=-0.1,
            timestamp=(start + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            ingested_at=(start + timedelta(minutes=i, seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            temperature=round(5 + i / 100, 2),
            humidity=50 + i % 40,
            pressure=1010,
        )
        for i in range(n)
    ]


@pytest.fixture
def topic(settings: Settings, unique: str) -> Iterator[str]:
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    name = f"it-producer-{unique}"
    admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1)])
    try:
        yield name
    finally:
        admin.delete_topics([name])
        admin.close()


def _read_back(settings: Settings, topic: str, expected: int) -> list[tuple[int, int, bytes, bytes]]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
    )
    try:
        records = []
        for record in consumer:
            records.append((record.partition, record.offset, record.key, record.value))
            if len(records) > expected:  # one too many is enough to fail; stop waiting for more
                break
        return records
    finally:
        consumer.close()


@pytest.mark.parametrize("client", CLIENTS)
def test_each_observation_is_acknowledged_once_and_read_back_unchanged(
    settings: Settings, topic: str, client: KafkaClient
) -> None:
    observations = _observations(500)
    producer = build_producer(settings.kafka_bootstrap_servers, client)
    try:
        deliveries = send_observations(producer, topic, observations, timeout=30)
    finally:
        producer.close()
    assert [d.error for d in deliveries if not d.ok] == []
    assert [d.key for d in deliveries] == [kafka_key(o).decode() for o in observations]
    coordinates = {(d.partition, d.offset) for d in deliveries}
    assert len(coordinates) == 500  # one offset each: nothing sent twice
    stored = {(p, o): (k, v) for p, o, k, v in _read_back(settings, topic, 500)}
    assert set(stored) == coordinates
    for delivery, observation in zip(deliveries, observations, strict=True):
        assert stored[(delivery.partition, delivery.offset)] == (kafka_key(observation), to_json(observation))
    # keyed by city: one city, one partition (its order kept)
    partitions_of_city: dict[str, set[int | None]] = {}
    for d in deliveries:
        partitions_of_city.setdefault(d.key, set()).add(d.partition)
    assert all(len(p) == 1 for p in partitions_of_city.values())


@pytest.mark.parametrize("client", CLIENTS)
def test_a_record_the_broker_refuses_fails_alone(settings: Settings, topic: str, client: KafkaClient) -> None:
    producer = build_producer(settings.kafka_bootstrap_servers, client)
    oversized = (b"London,GB", b'{"city": "' + b"x" * (5 * 1024 * 1024) + b'"}')  # over the producer's 4 MiB limit
    fine = [(b"Paris,FR", b'{"city": "Paris"}'), (b"Tokyo,JP", b'{"city": "Tokyo"}')]
    try:
        deliveries = producer.send_all(topic, [fine[0], oversized, fine[1]], timeout=30)
    finally:
        producer.close()
    assert [d.ok for d in deliveries] == [True, False, True]
    assert "size" in (deliveries[1].error or "").lower() or "large" in (deliveries[1].error or "").lower()
    assert sorted(v for _, _, _, v in _read_back(settings, topic, 2)) == sorted(v for _, v in fine)


@pytest.mark.parametrize("client", CLIENTS)
def test_a_broker_that_is_gone_is_reported_per_record_within_the_timeout(client: KafkaClient) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    try:
        producer = build_producer(f"127.0.0.1:{port}", client)
    except Exception as exc:  # kafka-python bootstraps when built: it says so then, within its bootstrap timeout
        assert client == "kafka-python", exc
        assert type(exc).__module__.startswith("kafka") and "bootstrap" in str(exc)
        assert time.monotonic() - started < 15
        return
    try:
        deliveries = send_observations(producer, "weather-data", _observations(3), timeout=3)
    finally:
        producer.close(timeout=1)
    assert time.monotonic() - started < 15
    assert len(deliveries) == 3
    assert all(not d.ok and d.error for d in deliveries)


@pytest.mark.parametrize("client", CLIENTS)
def test_an_observation_that_cannot_be_written_as_json_fails_alone(
    settings: Settings, topic: str, client: KafkaClient
) -> None:
    good = _observations(3)
    bad = dataclasses.replace(good[1], temperature=float("nan"))
    producer = build_producer(settings.kafka_bootstrap_servers, client)
    try:
        deliveries = send_observations(producer, topic, [good[0], bad, good[2]], timeout=30)
    finally:
        producer.close()
    assert [d.ok for d in deliveries] == [True, False, True]
    assert "not JSON compliant" in (deliveries[1].error or "")
    assert sorted(v for _, _, _, v in _read_back(settings, topic, 2)) == sorted([to_json(good[0]), to_json(good[2])])
