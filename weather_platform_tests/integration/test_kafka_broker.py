"""The local Kafka broker with the client the platform uses: idempotent acks=all produce, group consume, commits."""

from __future__ import annotations

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from weather_platform.settings import Settings


def test_platform_topics_exist(settings: Settings) -> None:
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    try:
        topics = {t["name"]: len(t["partitions"]) for t in admin.describe_topics([settings.kafka_topic])}
        assert topics == {settings.kafka_topic: 3}
        assert settings.kafka_dlq_topic in set(admin.list_topics())
    finally:
        admin.close()


def test_idempotent_produce_then_group_consume_with_committed_offsets(settings: Settings, unique: str) -> None:
    topic, group = f"it-kafka-{unique}", f"it-group-{unique}"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    try:
        producer = KafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
        )
        futures = [producer.send(topic, key=f"city-{i % 30}".encode(), value=f"m{i}".encode()) for i in range(300)]
        producer.flush()
        metadata = [f.get(timeout=10) for f in futures]
        producer.close()
        assert {m.partition for m in metadata} == {0, 1, 2}

        consumer = KafkaConsumer(
            topic,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            consumer_timeout_ms=5000,
        )
        received = [record.value.decode() for record in consumer]
        consumer.commit()
        partitions = [TopicPartition(topic, p) for p in range(3)]
        committed = {tp.partition: consumer.committed(tp) for tp in partitions}
        ends = {tp.partition: off for tp, off in consumer.end_offsets(partitions).items()}
        consumer.close()

        assert sorted(received) == sorted(f"m{i}" for i in range(300))
        assert committed == ends

        again = KafkaConsumer(
            topic,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            group_id=group,
            consumer_timeout_ms=3000,
        )
        assert list(again) == []  # the group resumes after its committed offsets
        again.close()
    finally:
        admin.delete_topics([topic])
        admin.close()
