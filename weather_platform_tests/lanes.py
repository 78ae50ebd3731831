"""Lanes: an isolated pipeline on the stack's services for a test or benchmark — its own topics, buckets, bronze
consumer group and warehouse schema — set up and removed in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from psycopg import sql

from weather_platform.connections import s3_client
from weather_platform.resources import KafkaResource, PostgresResource, build_resources
from weather_platform.settings import Settings
from weather_platform.warehouse.migrations import migrate


def postgres_in(settings: Settings, schema: str) -> PostgresResource:
    """The warehouse resource working in `schema` (already migrated by the lane's set-up)."""
    return PostgresResource(
        host=settings.postgres_host,
        port=settings.postgres_port,
        user=settings.postgres_user,
        password=settings.secret("postgres_password"),
        dbname=settings.postgres_db,
        search_path=schema,
    )


def empty_bucket(s3: Any, bucket: str) -> None:
    """Delete every object of `bucket`, then the bucket."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})
    s3.delete_bucket(Bucket=bucket)


@dataclass(frozen=True)
class Lane:
    settings: Settings  # the base settings with the lane's topics and buckets
    group: str  # the bronze consumer group
    schema: str  # the warehouse schema

    @classmethod
    def named(cls, base: Settings, prefix: str, unique: str, **updates: Any) -> Lane:
        """`<prefix>-weather-<unique>`, `<prefix>-dlq-…`, `<prefix>-bronze-…`, `<prefix>-silver-…` and the schema
        `<prefix>_<unique>`; `updates`: more settings of the lane."""
        settings = base.model_copy(
            update={
                "kafka_topic": f"{prefix}-weather-{unique}",
                "kafka_dlq_topic": f"{prefix}-dlq-{unique}",
                "bronze_bucket": f"{prefix}-bronze-{unique}",
                "silver_bucket": f"{prefix}-silver-{unique}",
                **updates,
            }
        )
        return cls(settings, f"{prefix}-bronze-{unique}", f"{prefix.replace('-', '_')}_{unique}")

    def resources(self, settings: Settings | None = None) -> dict[str, Any]:
        """The Dagster resources of the lane (`settings`: the lane's, changed after set-up, e.g. API endpoints)."""
        own = settings or self.settings
        resources = build_resources(own)
        resources["kafka"] = KafkaResource(
            bootstrap_servers=own.kafka_bootstrap_servers,
            topic=own.kafka_topic,
            dlq_topic=own.kafka_dlq_topic,
            bronze_group=self.group,
        )
        resources["postgres"] = postgres_in(own, self.schema)
        return resources

    @contextmanager
    def provisioned(self, topics: bool = True) -> Iterator[Lane]:
        """The lane's topics, buckets and migrated schema (`provision`), removed after (`remove`)."""
        self.provision(topics)
        try:
            yield self
        finally:
            self.remove(topics)

    def provision(self, topics: bool = True) -> None:
        """Create the lane's topics (3 partitions and 1 for dead letters), buckets and migrated schema."""
        settings = self.settings
        if topics:
            admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
            try:
                admin.create_topics([NewTopic(settings.kafka_topic, 3, 1), NewTopic(settings.kafka_dlq_topic, 1, 1)])
            finally:
                admin.close()
        s3 = s3_client(settings)
        for bucket in (settings.bronze_bucket, settings.silver_bucket):
            s3.create_bucket(Bucket=bucket)
        with psycopg.connect(**settings.postgres_connect_kwargs(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.schema)))
            migrate(conn, self.schema)  # once, as `weather-platform migrate` does: gold only checks the schema

    def remove(self, topics: bool = True) -> None:
        """Delete the lane's topics, consumer group, buckets (with every object) and schema.

        The group goes unless a member is still in it (a writer killed moments ago stays a member until its session
        times out); Kafka then expires it, with no offsets left once the topics are gone."""
        settings = self.settings
        if topics:
            admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
            try:
                admin.delete_topics([settings.kafka_topic, settings.kafka_dlq_topic])
                admin.delete_groups([self.group])  # answers per group, never raises: a group never used is fine
            finally:
                admin.close()
        s3 = s3_client(settings)
        for bucket in (settings.bronze_bucket, settings.silver_bucket):
            empty_bucket(s3, bucket)
        with psycopg.connect(**settings.postgres_connect_kwargs(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(self.schema)))

    def names(self) -> str:
        """The lane's topics, consumer group, buckets and schema, for a reader who inspects what a run left."""
        s = self.settings
        return (
            f"topics {s.kafka_topic}, {s.kafka_dlq_topic}; consumer group {self.group}; buckets {s.bronze_bucket}, "
            f"{s.silver_bucket}; schema {self.schema}"
        )
