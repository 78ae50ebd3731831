"""Kafka for Dagster: the broker, the topics and the bronze consumer group."""

import dagster as dg
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from weather_platform.streaming.bronze_writer import DEFAULT_GROUP
from weather_platform.streaming.producer import build_producer


class KafkaResource(dg.ConfigurableResource):
    bootstrap_servers: str
    topic: str = "weather-data"
    dlq_topic: str = "weather-data-dlq"
    bronze_group: str = DEFAULT_GROUP

    def producer(self) -> KafkaProducer:
        return build_producer(self.bootstrap_servers)

    def consumer_lag(self) -> dict[int, int]:
        """Records not yet committed by the bronze group, per partition (what the lag sensor watches)."""
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap_servers, request_timeout_ms=10_000)
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap_servers, request_timeout_ms=10_000)
        try:
            committed = admin.list_consumer_group_offsets(self.bronze_group)
            partitions = [
                TopicPartition(self.topic, p) for p in sorted(consumer.partitions_for_topic(self.topic) or [])
            ]
            ends = consumer.end_offsets(partitions)
            lag = {}
            for tp in partitions:
                done = committed.get(tp)
                lag[tp.partition] = ends[tp] - (done.offset if done is not None and done.offset >= 0 else 0)
            return lag
        finally:
            consumer.close()
            admin.close()
