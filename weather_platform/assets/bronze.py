"""Bronze: `bronze/kafka_drain` writes Kafka into raw Parquet by event day; `bronze/weather_raw` is one event day's
objects, repaired and checked.

The drain is its own step, not a day: it takes whatever the topic holds, writes each record into the folder of its
event day, and reports every day it changed as a materialization of that day of `bronze/weather_raw` (with that
day's checks). Declarative automation then refreshes silver and gold of exactly those days. Materializing
`bronze/weather_raw` for a day (or a backfill's range) reads no Kafka: it repairs and re-checks what bronze holds.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import dagster as dg

from weather_platform.assets.day_checks import DayChecks, partition_days
from weather_platform.assets.ingestion import weather_events
from weather_platform.assets.partitions import DAILY, DAILY_START
from weather_platform.assets.policies import KAFKA_POOL, RETRY, endpoints
from weather_platform.lake import bronze_store
from weather_platform.resources import KafkaResource, LakeResource
from weather_platform.service_errors import naming_services
from weather_platform.sources.observation import REQUIRED_FIELDS
from weather_platform.streaming.bronze_writer import KAFKA_COLUMNS, BronzeWriter

BRONZE_KEY = dg.AssetKey(["bronze", "weather_raw"])
DRAIN_KEY = dg.AssetKey(["bronze", "kafka_drain"])
REQUIRED_BRONZE_COLUMNS = [*REQUIRED_FIELDS, *(f.name for f in KAFKA_COLUMNS)]
BRONZE_CHECKS = {
    "required_columns": "the day has bronze objects, and city, timestamp, temperature and the Kafka coordinates "
    "are present",
    "unique_kafka_coordinates": "no (kafka_partition, kafka_offset) appears twice in the day",
}


@dataclass(frozen=True)
class BronzeDay:
    """One event day of bronze after its repair: what the checks and the metadata report."""

    day: date
    rows: int | None  # None: no object for the day
    stored_bytes: int
    missing_columns: list[str]
    duplicate_rows: int
    removed_objects: list[str]

    def checks(self) -> dict[str, tuple[bool, dict[str, Any], str | None]]:
        """(passed, metadata, description) of each bronze check."""
        absent = f"no bronze objects for {self.day}: nothing arrived for this day" if self.rows is None else None
        return {
            "required_columns": (
                self.rows is not None and not self.missing_columns,
                {"missing": ", ".join(self.missing_columns) or "none", "rows": self.rows or 0},
                absent,
            ),
            "unique_kafka_coordinates": (self.duplicate_rows == 0, {"duplicate_rows": self.duplicate_rows}, None),
        }


def inspect_day(s3: Any, bucket: str, day: date, committed: dict[tuple[str, int], int]) -> BronzeDay:
    """Repair one day (objects a writer that lost its partitions duplicated), then measure it."""
    repair = bronze_store.repair_day(s3, bucket, day, committed)
    table = bronze_store.read_day(s3, bucket, day)
    return BronzeDay(
        day=day,
        rows=None if table is None else table.num_rows,
        stored_bytes=bronze_store.day_bytes(s3, bucket, day),
        missing_columns=[] if table is None else bronze_store.missing_columns(table, REQUIRED_BRONZE_COLUMNS),
        duplicate_rows=0 if table is None else bronze_store.duplicate_coordinates(table),
        removed_objects=repair.removed,
    )


@dg.asset(
    key=DRAIN_KEY,
    deps=[weather_events],
    group_name="bronze",
    kinds={"kafka", "s3", "parquet"},
    pool=KAFKA_POOL,
    retry_policy=RETRY,
    description="Drains the observation topic up to its current end into "
    "`s3://<bronze bucket>/weather/year=/month=/day=/`, each record in the folder of its **event** day; offsets "
    "are committed only after the objects are written. Every day that received records is reported as a "
    "materialization of that day of `bronze/weather_raw`, with its checks.",
)
def kafka_drain(context: dg.AssetExecutionContext, kafka: KafkaResource, lake: LakeResource) -> Iterator[object]:
    s3 = lake.client()
    valid_days = set(DAILY.get_partition_keys())
    with naming_services(endpoints(kafka=kafka, lake=lake)):
        writer = BronzeWriter(
            bootstrap_servers=kafka.bootstrap_servers,
            topic=kafka.topic,
            dlq_topic=kafka.dlq_topic,
            s3=s3,
            bucket=lake.bronze_bucket,
            group_id=kafka.bronze_group,
            earliest_day=DAILY_START,
        )
        try:
            report = writer.run("drain")
            committed = writer.committed_offsets()
        finally:
            writer.close()
        days = [
            inspect_day(s3, lake.bronze_bucket, day, committed)
            for day in sorted(report.days)
            if day.isoformat() in valid_days
        ]
    context.log.info(
        f"drained {report.messages} messages ({report.rows} rows, {report.dead_letters} dead letters) "
        f"into {len(report.objects)} objects in {report.seconds:.1f} s; days changed: "
        f"{', '.join(str(d.day) for d in days) or 'none'}"
    )
    ranges = "\n".join(
        f"| {r.partition} | {r.first_offset} | {r.last_offset} | {r.rows} | {r.dead_letters} |" for r in report.ranges
    )
    yield dg.MaterializeResult(
        metadata={
            "messages_drained": report.messages,
            "rows_written": report.rows,
            "dead_letters": report.dead_letters,
            "objects_written": len(report.objects),
            "recovered_objects": len(report.recovered_objects),
            "duplicate_objects_removed": sum(len(d.removed_objects) for d in days),
            "days_changed": ", ".join(str(d.day) for d in days) or "none",
            "kafka_lag_after": sum(report.lag_after.values()),
            "offset_ranges": dg.MetadataValue.md(
                "| partition | first | last | rows | dead letters |\n|---|---|---|---|---|\n" + ranges
                if ranges
                else "nothing new"
            ),
            "drain_seconds": round(report.seconds, 3),
        }
    )
    # then each event day it changed, as a materialization of that day of bronze/weather_raw with its checks
    for bronze_day in days:
        context.log_event(
            dg.AssetMaterialization(
                asset_key=BRONZE_KEY,
                partition=bronze_day.day.isoformat(),
                metadata={
                    "dagster/row_count": bronze_day.rows or 0,
                    "rows_added": report.days[bronze_day.day],
                    "day_bytes": bronze_day.stored_bytes,
                    "duplicate_objects_removed": len(bronze_day.removed_objects),
                },
            )
        )
        for name, (passed, metadata, description) in bronze_day.checks().items():
            yield dg.AssetCheckEvaluation(
                asset_key=BRONZE_KEY,
                check_name=name,
                passed=passed,
                metadata=metadata,
                description=description,
                blocking=True,
                partition=bronze_day.day.isoformat(),
            )


@dg.asset(
    key=BRONZE_KEY,
    deps=[DRAIN_KEY],
    partitions_def=DAILY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="bronze",
    kinds={"s3", "parquet"},
    retry_policy=RETRY,
    description="The raw records of one **event** day: `s3://<bronze bucket>/weather/year=/month=/day=/`, written by "
    "`bronze/kafka_drain` (which reports each day it changes). Materializing a day reads no Kafka: it repairs the "
    "day's objects and checks them.",
    check_specs=[
        dg.AssetCheckSpec(name, asset=BRONZE_KEY, blocking=True, partitions_def=DAILY, description=description)
        for name, description in BRONZE_CHECKS.items()
    ],
)
def weather_raw(context: dg.AssetExecutionContext, kafka: KafkaResource, lake: LakeResource) -> Iterator[object]:
    s3 = lake.client()
    with naming_services(endpoints(kafka=kafka, lake=lake)):
        committed = kafka.committed_offsets()
        days = [inspect_day(s3, lake.bronze_bucket, day, committed) for day in partition_days(context)]
    removed = sum(len(d.removed_objects) for d in days)
    if removed:
        context.log.warning(f"removed {removed} bronze objects duplicated by a writer that lost its partitions")
    rows = sum(d.rows or 0 for d in days)
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count" if len(days) == 1 else "rows_in_range": rows,
            "day_bytes": sum(d.stored_bytes for d in days),
            "days_without_data": ", ".join(str(d.day) for d in days if d.rows is None) or "none",
            "duplicate_objects_removed": removed,
        }
    )
    checks = DayChecks(context)
    yield from checks.outputs()
    for bronze_day in days:
        for name, (passed, metadata, description) in bronze_day.checks().items():
            yield from checks.result(BRONZE_KEY, name, bronze_day.day, passed, metadata, description)
