"""Kafka for Dagster: the broker, the topics and the bronze consumer group."""

import dagster as dg
from kafka import KafkaConsumer, TopicPartition

from weather_platform.streaming.bronze_writer import DEFAULT_GROUP
from weather_platform.streaming.producer import KafkaClient, ObservationProducer, build_producer


class KafkaResource(dg.ConfigurableResource):
    bootstrap_servers: str
    topic: str = "weather-data"
    dlq_topic: str = "weather-data-dlq"
    bronze_group: str = DEFAULT_GROUP
    client: KafkaClient = "confluent-kafka"  # the producer's client (KAFKA_CLIENT)

    def producer(self) -> ObservationProducer:
        return build_producer(self.bootstrap_servers, self.client)

    def committed_offsets(self) -> dict[tuple[str, int], int]:
        """The bronze group's committed offset of each partition that has one (what a bronze repair relies on)."""
        _, committed = self._offsets()
        return {(self.topic, partition): offset for partition, offset in committed.items() if offset is not None}

    def lag_snapshot(self) -> tuple[dict[int, int], dict[int, int]]:
        """(end offsets, offsets committed by the bronze group) per partition; reads only, commits nothing."""
        ends, committed = self._offsets()
        return ends, {partition: offset or 0 for partition, offset in committed.items()}

    def _offsets(self) -> tuple[dict[int, int], dict[int, int | None]]:
        # A consumer that names the group but never subscribes reads its commits without joining it.
        consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            group_id=self.bronze_group,
            enable_auto_commit=False,
            request_timeout_ms=10_000,
        )
        try:
            known = sorted(consumer.partitions_for_topic(self.topic) or [])
            partitions = [TopicPartition(self.topic, p) for p in known]
            ends = {tp.partition: offset for tp, offset in consumer.end_offsets(partitions).items()}
            done = {tp.partition: consumer.committed(tp) for tp in partitions}
            return ends, done
        finally:
            consumer.close(autocommit=False)
