"""`bronze/weather_raw`: drains Kafka into raw Parquet by event day, with its checks."""

from collections.abc import Iterator

import dagster as dg

from weather_platform.assets.ingestion import weather_events
from weather_platform.assets.partitions import DAILY, DAILY_START, partition_day
from weather_platform.assets.policies import RETRY, endpoints
from weather_platform.lake import bronze_store
from weather_platform.resources import KafkaResource, LakeResource
from weather_platform.service_errors import naming_services
from weather_platform.sources.observation import REQUIRED_FIELDS
from weather_platform.streaming.bronze_writer import KAFKA_COLUMNS, BronzeWriter

BRONZE_KEY = dg.AssetKey(["bronze", "weather_raw"])
REQUIRED_BRONZE_COLUMNS = [*REQUIRED_FIELDS, *(f.name for f in KAFKA_COLUMNS)]


@dg.asset(
    key=BRONZE_KEY,
    deps=[weather_events],
    partitions_def=DAILY,
    group_name="bronze",
    kinds={"kafka", "s3", "parquet"},
    retry_policy=RETRY,
    description="Drains the observation topic up to its current end into "
    "`s3://<bronze bucket>/weather/year=/month=/day=/`, each record in the folder of its event day; offsets are "
    "committed only after the objects are written. "
    "Days other than this partition that received late records are reported as their own materializations.",
    check_specs=[
        dg.AssetCheckSpec(
            "required_columns",
            asset=BRONZE_KEY,
            blocking=True,
            partitions_def=DAILY,
            description="city, timestamp, temperature and the Kafka coordinates are present",
        ),
        dg.AssetCheckSpec(
            "unique_kafka_coordinates",
            asset=BRONZE_KEY,
            blocking=True,
            partitions_def=DAILY,
            description="no (kafka_partition, kafka_offset) appears twice in the day",
        ),
    ],
)
def weather_raw(context: dg.AssetExecutionContext, kafka: KafkaResource, lake: LakeResource) -> Iterator[object]:
    day = partition_day(context)
    s3 = lake.client()
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
        repairs = {d: bronze_store.repair_day(s3, lake.bronze_bucket, d, committed) for d in {day, *report.days}}
    removed = [key for r in repairs.values() for key in r.removed]
    if removed:
        context.log.warning(f"removed {len(removed)} bronze objects duplicated by a writer that lost its partitions")
    context.log.info(
        f"drained {report.messages} messages ({report.rows} rows, {report.dead_letters} dead letters) "
        f"into {len(report.objects)} objects in {report.seconds:.1f} s"
    )
    valid_days = set(DAILY.get_partition_keys())
    for other, rows in sorted(report.days.items()):
        if other != day and other.isoformat() in valid_days:
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=BRONZE_KEY, partition=other.isoformat(), metadata={"late_rows_added": rows}
                )
            )

    with naming_services(endpoints(lake=lake)):
        table = bronze_store.read_day(s3, lake.bronze_bucket, day)
        stored_bytes = bronze_store.day_bytes(s3, lake.bronze_bucket, day)
    rows_in_day = 0 if table is None else table.num_rows
    ranges = "\n".join(
        f"| {r.partition} | {r.first_offset} | {r.last_offset} | {r.rows} | {r.dead_letters} |" for r in report.ranges
    )
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows_in_day,
            "rows_written_this_run": report.days.get(day, 0),
            "day_bytes": stored_bytes,
            "messages_drained": report.messages,
            "dead_letters": report.dead_letters,
            "objects_written": len(report.objects),
            "recovered_objects": len(report.recovered_objects),
            "duplicate_objects_removed": len(removed),
            "days_touched": ", ".join(sorted(d.isoformat() for d in report.days)) or "none",
            "kafka_lag_after": sum(report.lag_after.values()),
            "offset_ranges": dg.MetadataValue.md(
                "| partition | first | last | rows | dead letters |\n|---|---|---|---|---|\n" + ranges
                if ranges
                else "nothing new"
            ),
            "drain_seconds": round(report.seconds, 3),
        }
    )
    missing = [] if table is None else bronze_store.missing_columns(table, REQUIRED_BRONZE_COLUMNS)
    yield dg.AssetCheckResult(
        check_name="required_columns",
        passed=not missing,
        metadata={"missing": ", ".join(missing) or "none", "rows": rows_in_day},
    )
    duplicates = 0 if table is None else bronze_store.duplicate_coordinates(table)
    yield dg.AssetCheckResult(
        check_name="unique_kafka_coordinates", passed=duplicates == 0, metadata={"duplicate_rows": duplicates}
    )
