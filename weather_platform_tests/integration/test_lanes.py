"""The lanes that tests, benchmarks and `make chaos` work in (weather_platform_tests/lanes.py) leave nothing behind on
the real services once removed: a chaos lane kept its consumer group listed on the broker after its topics had gone."""

from __future__ import annotations

import time
from typing import Any

import botocore.exceptions
import psycopg
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from weather_platform.connections import s3_client
from weather_platform.settings import Settings
from weather_platform_tests.lanes import Lane

pytestmark = pytest.mark.integration


def _groups(admin: KafkaAdminClient) -> set[str]:
    return {group["group_id"] for group in admin.list_groups()}  # kafka-python 3 lists each group as a dict


def _bucket_exists(s3: Any, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError:
        return False
    return True


def test_a_removed_lane_leaves_no_topic_group_bucket_or_schema(settings: Settings, unique: str) -> None:
    lane = Lane.named(settings, "it-lane", unique)
    s = lane.settings
    lane.provision()
    producer = KafkaProducer(bootstrap_servers=s.kafka_bootstrap_servers)
    producer.send(s.kafka_topic, b"{}").get(timeout=10)
    producer.close()
    consumer = KafkaConsumer(
        s.kafka_topic,
        bootstrap_servers=s.kafka_bootstrap_servers,
        group_id=lane.group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=10_000,
    )
    assert next(iter(consumer)).value == b"{}"
    consumer.commit()
    consumer.close()
    s3 = s3_client(s)
    s3.put_object(Bucket=s.bronze_bucket, Key="weather/year=2024/month=07/day=15/x.parquet", Body=b"x")
    admin = KafkaAdminClient(bootstrap_servers=s.kafka_bootstrap_servers)
    try:
        assert lane.group in _groups(admin)

        lane.remove()

        deadline = time.monotonic() + 15  # Kafka deletes topics in the background
        while {s.kafka_topic, s.kafka_dlq_topic} & set(admin.list_topics()) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not {s.kafka_topic, s.kafka_dlq_topic} & set(admin.list_topics())
        assert lane.group not in _groups(admin)
    finally:
        admin.close()
    assert not any(_bucket_exists(s3, bucket) for bucket in (s.bronze_bucket, s.silver_bucket))
    with psycopg.connect(**settings.postgres_connect_kwargs()) as conn:
        found = conn.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (lane.schema,))
        assert found.fetchone() is None
