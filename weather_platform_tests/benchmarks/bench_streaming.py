"""Producer and bronze-drain throughput on the real broker and S3 server, each beside its limit in the same run.

    python -m weather_platform_tests.benchmarks.bench_streaming [--messages 100000]

Limits (issue 16): the producer against Kafka's own ProducerPerformance sending the same JSON values with the same
settings (acks=all, gzip, idempotent, linger and batch size); the bronze drain against a plain kafka-python consumer
reading the same topic with the writer's fetch sizes and doing nothing with the records, the two alternating in
fresh consumer groups (`--pairs`, 3 by default; medians compared). Each phase runs in its own process so that its
peak memory (max RSS) is its own. Figures are reported, never asserted (docs/DESIGN.md §7).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import re
import resource
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import NewTopic
from rich.console import Console
from rich.table import Table

from weather_platform.connections import s3_client
from weather_platform.settings import load_settings
from weather_platform.sources.observation import Observation, to_json
from weather_platform.sources.simulator import CITIES
from weather_platform.stack.provision import java, maven_jars
from weather_platform.stack.versions import KAFKA, KAFKA_ARTIFACTS
from weather_platform.streaming.bronze_writer import BronzeWriter
from weather_platform.streaming.producer import KafkaClient, build_producer, send_observations
from weather_platform_tests.benchmarks.summary import Row, record

KAFKA_TOOLS = KAFKA.replace(":kafka_2.13:", ":kafka-tools:")  # ProducerPerformance, the broker's own version


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


def _produce(topic: str, n: int, client: KafkaClient, out: Any) -> None:
    settings = load_settings()
    observations = _observations(n)
    producer = build_producer(settings.kafka_bootstrap_servers, client)
    started = time.perf_counter()
    deliveries = send_observations(producer, topic, observations, timeout=120)
    seconds = time.perf_counter() - started
    producer.close()
    out.put(
        (
            f"producer ({client})",
            sum(d.ok for d in deliveries),
            seconds,
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        )
    )


def _drain(topic: str, bucket: str, group: str, out: Any) -> None:
    settings = load_settings()
    writer = BronzeWriter(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topic=topic,
        dlq_topic=settings.kafka_dlq_topic,
        s3=s3_client(settings),
        bucket=bucket,
        group_id=group,
    )
    started = time.perf_counter()
    report = writer.run("drain")
    seconds = time.perf_counter() - started
    writer.close()
    out.put(("bronze drain", report.rows, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def _raw_consume(topic: str, n: int, group: str, out: Any) -> None:
    """The limit of the drain: the same client reading the same records with the writer's fetch sizes, nothing
    done with them."""
    settings = load_settings()
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=10_000,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    started = time.perf_counter()
    count = 0
    while count < n and time.perf_counter() - started < 300:
        count += sum(len(records) for records in consumer.poll(timeout_ms=500).values())
    seconds = time.perf_counter() - started
    consumer.close()
    out.put(("raw kafka-python consume", count, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def _producer_performance(topic: str, n: int) -> tuple[str, int, float, int]:
    """The limit of the producer: Kafka's own ProducerPerformance (Java) sending the same values, same settings."""
    settings = load_settings()
    jars = maven_jars("kafka-tools", (KAFKA_TOOLS, *KAFKA_ARTIFACTS[1:]))
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as payloads:
        for observation in _observations(n):
            payloads.write(to_json(observation).decode() + "\n")
    props = [f"bootstrap.servers={settings.kafka_bootstrap_servers}", "acks=all", "compression.type=gzip",
             "enable.idempotence=true", "linger.ms=20", f"batch.size={256 * 1024}"]  # fmt: skip
    argv = [java(), "-cp", f"{jars}/*", "org.apache.kafka.tools.ProducerPerformance", "--topic", topic,
            "--num-records", str(n), "--throughput", "-1", "--payload-file", payloads.name,
            "--producer-props", *props]  # fmt: skip
    try:
        result = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=600)
    finally:
        os.unlink(payloads.name)
    # its last line: "100000 records sent, 17234.5 records/sec (10.35 MB/sec), … max latency"
    summary = re.search(r"(\d+) records sent, ([\d.]+) records/sec", result.stdout.strip().splitlines()[-1])
    if summary is None:
        raise SystemExit(f"ProducerPerformance printed no summary: {result.stdout[-500:]} {result.stderr[-500:]}")
    sent, rate = int(summary[1]), float(summary[2])
    return ("Kafka ProducerPerformance (Java)", sent, sent / rate, 0)


def _rate(phase: tuple[str, int, float, int]) -> float:
    return phase[1] / phase[2]


def _median(phases: list[tuple[str, int, float, int]]) -> tuple[str, int, float, int]:
    """The phase of median rate (the lower middle one of an even number)."""
    return sorted(phases, key=_rate)[(len(phases) - 1) // 2]


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
    parser.add_argument("--pairs", type=int, default=3, help="drain / raw consume pairs, alternating")
    args = parser.parse_args()
    settings = load_settings()
    suffix = uuid.uuid4().hex[:8]
    topic, bucket = f"bench-weather-{suffix}", f"bench-bronze-{suffix}"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    limit_topic, other_topic = f"{topic}-limit", f"{topic}-kafka-python"
    admin.create_topics([NewTopic(topic, 3, 1), NewTopic(limit_topic, 3, 1), NewTopic(other_topic, 3, 1)])
    s3 = s3_client(settings)
    s3.create_bucket(Bucket=bucket)
    try:
        producer = _phase(_produce, topic, args.messages, "confluent-kafka")  # the default client (KAFKA_CLIENT)
        producer_other = _phase(_produce, other_topic, args.messages, "kafka-python")
        producer_limit = _producer_performance(limit_topic, args.messages)
        # Drain and raw consume alternate (A B A B …), each in a fresh group (the drain's objects are the same
        # names again: replaced); the medians are compared, every pair printed.
        drains, raws = [], []
        for pair in range(args.pairs):
            drains.append(_phase(_drain, topic, bucket, f"bench-{topic}-{pair}"))
            raws.append(_phase(_raw_consume, topic, args.messages, f"bench-raw-{topic}-{pair}"))
            print(f"pair {pair + 1}: drain {_rate(drains[-1]):,.0f} msg/s, raw consume {_rate(raws[-1]):,.0f} msg/s")
        drain, drain_limit = _median(drains), _median(raws)
    finally:
        admin.delete_topics([topic, limit_topic, other_topic])
        admin.close()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            if page.get("Contents"):
                s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": o["Key"]} for o in page["Contents"]]})
        s3.delete_bucket(Bucket=bucket)
    rows = [producer, producer_other, producer_limit, drain, drain_limit]
    table = Table(title=f"streaming throughput, {args.messages:,} messages (issue 16: each ≥ 0.5 x its limit)")
    for column in ("phase", "messages", "seconds", "messages/s", "ratio to its limit", "peak RSS MiB"):
        table.add_column(column, justify="right")
    for (name, count, seconds, rss_kib), limit in zip(
        rows, (producer_limit, producer_limit, None, drain_limit, None), strict=True
    ):
        ratio = f"{(count / seconds) / (limit[1] / limit[2]):.2f}" if limit else "(limit)"
        rss = f"{rss_kib / 1024:.0f}" if rss_kib else "-"
        table.add_row(name, f"{count:,}", f"{seconds:.2f}", f"{count / seconds:,.0f}", ratio, rss)
    Console(width=140).print(table)
    for stage, (name, count, seconds, _), (limit_name, limit_count, limit_seconds, _) in (
        ("producer", producer, producer_limit),
        ("producer (kafka-python)", producer_other, producer_limit),
        ("bronze writer", drain, drain_limit),
    ):
        rate, limit_rate = count / seconds, limit_count / limit_seconds
        record(Row(stage, f"{name}: {rate:,.0f} msg/s", f"{limit_name}: {limit_rate:,.0f} msg/s", rate / limit_rate,
                   0.5, higher_is_better=True))  # fmt: skip
    counts = [count for _, count, _, _ in (*rows, *drains, *raws)]
    if any(count != args.messages for count in counts):
        raise SystemExit(f"expected {args.messages} messages in every phase, got {counts}")


if __name__ == "__main__":
    main()
