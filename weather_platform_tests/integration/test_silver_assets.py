"""The silver multi-asset through Dagster with an in-memory lake IO manager: a real (local) Spark session, no S3 —
the asset's own logic (one run for a range, what each dataset is handed, each day's checks) apart from storage."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import dagster as dg
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from weather_platform.assets.bronze import BRONZE_KEY
from weather_platform.assets.partitions import DAILY
from weather_platform.assets.silver import LAKE_STORAGE, silver
from weather_platform.lake.silver_writer import BRONZE_DAY, PARTITION_COLUMNS, DatasetDays
from weather_platform.resources import WeatherApiResource
from weather_platform.service_errors import Endpoints
from weather_platform.streaming.bronze_writer import BRONZE_SCHEMA
from weather_platform_tests.integration.test_silver_writer import COMPLETE

DAYS = [date(2026, 3, 14), date(2026, 3, 15), date(2026, 3, 16)]
CITIES = ("Paris", "FR"), ("Oslo", "NO"), ("Rome", "IT")


def bronze_rows(day: date, hours: list[int], copies: int = 1) -> list[dict[str, Any]]:
    rows = []
    for city, country in CITIES:
        for hour in hours:
            moment = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
            record = {
                **COMPLETE,
                "city": city,
                "country": country,
                "timestamp": moment.isoformat().replace("+00:00", "Z"),
                "ingested_at": moment.isoformat().replace("+00:00", "Z"),
            }
            rows += [record] * copies
    return rows


def bronze_frame(spark: SparkSession, days: dict[date, list[dict[str, Any]]]) -> DataFrame:
    """Bronze rows as the lake IO manager reads them: bronze's columns and the day of the folder."""
    columns: dict[str, list[Any]] = {name: [] for name in BRONZE_SCHEMA.names}
    folder: list[str] = []
    offset = 0
    for day, records in days.items():
        for record in records:
            for name in COMPLETE:
                columns[name].append(record[name])
            columns["kafka_topic"].append("weather-data")
            columns["kafka_partition"].append(0)
            columns["kafka_offset"].append(offset)
            columns["kafka_timestamp"].append(datetime.fromisoformat(record["ingested_at"]))
            columns["kafka_key"].append(f"{record['city']},{record['country']}")
            columns["raw_json"].append(json.dumps(record))
            columns["bronze_object"].append(f"bronze-{day}")
            folder.append(day.isoformat())
            offset += 1
    table = pa.Table.from_pydict(columns, schema=BRONZE_SCHEMA).append_column(BRONZE_DAY, pa.array(folder))
    return spark.createDataFrame(table.to_pandas(), schema=from_arrow_schema(table.schema))


class MemoryLake(dg.IOManager):
    """The lake in memory: bronze given by the test; each silver day kept as the rows written for it (a day of the
    run without rows kept empty), read back with integer year/month/day as from the folder names."""

    def __init__(self, spark: SparkSession, bronze: DataFrame) -> None:
        self.spark, self.bronze = spark, bronze
        self.written: dict[tuple[str, date], list[Any]] = {}
        self.schemas: dict[str, Any] = {}
        self.endpoints = Endpoints()

    def handle_output(self, context: dg.OutputContext, obj: DatasetDays) -> None:
        dataset = context.asset_key.path[-1]
        rows = obj.frame.collect()
        self.schemas[dataset] = obj.frame.schema
        for key in context.asset_partition_keys:
            day = date.fromisoformat(key)
            wanted = (f"{day:%Y}", f"{day:%m}", f"{day:%d}")
            self.written[(dataset, day)] = [
                r for r in rows if day in obj.with_rows and tuple(r[c] for c in PARTITION_COLUMNS) == wanted
            ]
        if obj.figures is not None:  # as the lake IO manager records them, once the rows are computed
            context.add_output_metadata(obj.figures())

    def load_input(self, context: dg.InputContext) -> DataFrame:
        days = [d.isoformat() for d in map(date.fromisoformat, context.asset_partition_keys)]
        return self.bronze.filter(F.col(BRONZE_DAY).isin(days))

    def read(self, dataset: str, days: list[date]) -> DataFrame | None:
        rows = [row for day in days for row in self.written.get((dataset, day), [])]
        if not any((dataset, day) in self.written for day in days):
            return None
        frame = self.spark.createDataFrame(rows, self.schemas[dataset])
        return frame.withColumns({c: F.col(c).cast("int") for c in PARTITION_COLUMNS})


def test_a_range_run_hands_each_dataset_its_days_and_checks_each_day(spark_local: SparkSession) -> None:
    bronze = bronze_frame(
        spark_local,
        {DAYS[0]: bronze_rows(DAYS[0], [10, 11]), DAYS[1]: bronze_rows(DAYS[1], [9], copies=2)},
    )
    lake = MemoryLake(spark_local, bronze)
    result = dg.materialize(
        [dg.AssetSpec(BRONZE_KEY, partitions_def=DAILY), silver],
        selection=[silver],
        tags={
            "dagster/asset_partition_range_start": DAYS[0].isoformat(),
            "dagster/asset_partition_range_end": DAYS[-1].isoformat(),
        },
        resources={
            LAKE_STORAGE: dg.IOManagerDefinition.hardcoded_io_manager(lake),
            "weather_api": WeatherApiResource(base_url="http://unused", cities="Paris,FR;Oslo,NO;Rome,IT"),
        },
        raise_on_error=False,
    )

    assert not result.success  # the day without bronze fails its blocking completeness check
    sizes = {(dataset, day): len(rows) for (dataset, day), rows in lake.written.items()}
    assert sizes == {
        **{("weather_cleaned", d): n for d, n in zip(DAYS, (6, 3, 0), strict=True)},
        **{("weather_daily_agg", d): n for d, n in zip(DAYS, (3, 3, 0), strict=True)},
        **{("weather_hourly_agg", d): n for d, n in zip(DAYS, (6, 3, 0), strict=True)},
    }
    checks = {(e.partition, e.check_name): e for e in result.get_asset_check_evaluations()}
    assert len(checks) == 3 * 5
    first, second, empty = (d.isoformat() for d in DAYS)
    assert all(checks[(day, name)].passed for day in (first, second) for name in
               ("completeness", "coverage", "validity", "uniqueness", "consistency"))  # fmt: skip
    assert checks[(second, "completeness")].metadata["bronze_rows"].value == 6  # each record twice
    assert not checks[(empty, "completeness")].passed
    assert checks[(empty, "completeness")].description == "no bronze rows for 2026-03-16: nothing arrived for this day"
    assert checks[(empty, "coverage")].metadata["missing_cities"].value == "Paris,FR, Oslo,NO, Rome,IT"
    cleaned = result.asset_materializations_for_node("silver")[0].metadata
    assert (cleaned["rows_in_range"].value, cleaned["rows_in"].value, cleaned["dropped_duplicate"].value) == (9, 12, 3)
