"""Producer and bronze-drain throughput on the real broker and S3 server (issue: ingestion and bronze).

    python -m weather_platform_tests.benchmarks.bench_streaming [--messages 100000]

Each phase runs in its own process so that its peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from rich.console import Console
from rich.table import Table

from weather_platform.connections import s3_client
from weather_platform.settings import load_settings
from weather_platform.sources.observation import Observation
from weather_platform.sources.simulator import CITIES
from weather_platform.streaming.bronze_writer import BronzeWriter
from weather_platform.streaming.producer import build_producer, send_observations


def _observations(n: int) -> list[Observation]:
    start = datetime(2026, 3, 14, tzinfo=UTC)
    cities = list(CITIES)
    return [
        Observation(
            source="bench",
            city=cities[i % len(cities)].name,
            country=cities[i % len(cities)].country,
            latitude=cities[i % len(cities)].lat,
            longitude=cities[i % len(cities)].lon,
            timestamp=(start + timedelta(seconds=i * 3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            ingested_at=(start + timedelta(seconds=i * 3 + 1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            temperature=round(10 + (i % 300) / 10, 2),
            feels_like=9.5,
            humidity=40 + i % 50,
            pressure=1000 + i % 30,
            wind_speed=3.2,
            clouds=i % 100,
            weather_main="Clouds",
            weather_description="scattered clouds",
        )
        for i in range(n)
    ]


def _produce(topic: str, n: int, out: Any) -> None:
    settings = load_settings()
    observations = _observations(n)
    producer = build_producer(settings.kafka_bootstrap_servers)
    started = time.perf_counter()
    deliveries = send_observations(producer, topic, observations, timeout=120)
    seconds = time.perf_counter() - started
    producer.close()
    out.put(("producer", sum(d.ok for d in deliveries), seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def _drain(topic: str, bucket: str, out: Any) -> None:
    settings = load_settings()
    writer = BronzeWriter(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topic=topic,
        dlq_topic=settings.kafka_dlq_topic,
        s3=s3_client(settings),
        bucket=bucket,
        group_id=f"bench-{topic}",
    )
    started = time.perf_counter()
    report = writer.run("drain")
    seconds = time.perf_counter() - started
    writer.close()
    out.put(("bronze drain", report.rows, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def _phase(target: Any, *args: Any) -> tuple[str, int, float, int]:
    queue: Any = mp.get_context("spawn").Queue()
    process = mp.get_context("spawn").Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get(timeout=600)
    process.join()
    return result  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    args = parser.parse_args()
    settings = load_settings()
    suffix = uuid.uuid4().hex[:8]
    topic, bucket = f"bench-weather-{suffix}", f"bench-bronze-{suffix}"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    admin.create_topics([NewTopic(topic, 3, 1)])
    s3 = s3_client(settings)
    s3.create_bucket(Bucket=bucket)
    try:
        rows = [_phase(_produce, topic, args.messages), _phase(_drain, topic, bucket)]
    finally:
        admin.delete_topics([topic])
        admin.close()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            if page.get("Contents"):
                s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": o["Key"]} for o in page["Contents"]]})
        s3.delete_bucket(Bucket=bucket)
    table = Table(title=f"streaming throughput, {args.messages:,} messages (target ≥ 20,000 msg/s each)")
    for column in ("phase", "messages", "seconds", "messages/s", "peak RSS MiB"):
        table.add_column(column, justify="right")
    for name, count, seconds, rss_kib in rows:
        table.add_row(name, f"{count:,}", f"{seconds:.2f}", f"{count / seconds:,.0f}", f"{rss_kib / 1024:.0f}")
    Console().print(table)
    if any(count != args.messages for _, count, _, _ in rows):
        raise SystemExit(f"expected {args.messages} messages in every phase, got {[r[1] for r in rows]}")


if __name__ == "__main__":
    main()
