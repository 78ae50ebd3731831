"""The silver I/O layer on real Spark and the real S3 server: a seeded bronze day gives exactly the expected silver
rows, counts and scores, in the docs/DESIGN.md §4.3 layout; re-runs are identical and touch no other day.

Bronze objects are written as the bronze writer writes them (`to_parquet`, its schema, its object names), including
records of the neighbouring days in their own folders. Expectations are worked out by hand from docs/DESIGN.md §4.3.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from weather_platform.connections import s3_client
from weather_platform.lake.layout import SILVER_DATASETS, BronzeObject, silver_day_prefix
from weather_platform.lake.silver_writer import SilverDayResult, process_day, process_days, read_silver_day
from weather_platform.settings import Settings
from weather_platform.streaming.bronze_writer import BRONZE_SCHEMA, to_parquet
from weather_platform.transforms import silver as silver_transforms
from weather_platform.transforms.silver import OBSERVATION_TYPES

pytestmark = pytest.mark.integration

DAY, PREVIOUS, NEXT = date(2024, 7, 15), date(2024, 7, 14), date(2024, 7, 16)
LATE, EMPTY, MISSING = date(2024, 7, 17), date(2024, 7, 19), date(2024, 7, 20)
TOPIC = "weather-data"

COMPLETE: dict[str, Any] = {
    "schema_version": 1,
    "source": "simulator",
    "city": "Paris",
    "country": "FR",
    "city_id": 2988507,
    "latitude": 48.85,
    "longitude": 2.35,
    "timestamp": "2024-07-15T10:00:00Z",
    "ingested_at": "2024-07-15T10:00:30Z",
    "temperature": 25.0,
    "feels_like": 25.3,
    "temp_min": 24.0,
    "temp_max": 26.0,
    "pressure": 1012,
    "sea_level": 1012,
    "grnd_level": 1005,
    "humidity": 60,
    "visibility": 10000,
    "wind_speed": 3.5,
    "wind_deg": 200,
    "wind_gust": None,
    "clouds": 20,
    "rain_1h": None,
    "snow_1h": None,
    "weather_main": "Clouds",
    "weather_description": "few clouds",
    "weather_icon": "02d",
    "sunrise": "2024-07-15T03:58:00Z",
    "sunset": "2024-07-15T19:51:00Z",
    "timezone_offset": 7200,
}
# How each optional field goes missing in bronze: numbers are typed there, so as null; strings also blank.
GAPS: dict[str, Any] = {
    **dict.fromkeys(("country", "latitude", "longitude", "feels_like", "pressure", "humidity", "visibility")),
    **dict.fromkeys(("wind_speed", "wind_deg", "clouds")),
    "weather_main": "",
    "weather_description": "   ",
}


def rec(**fields: Any) -> dict[str, Any]:
    return {**COMPLETE, **fields}


def at(hhmmss: str, day: date = DAY) -> str:
    return f"{day}T{hhmmss}Z"


# Each bronze object: (event-day folder, Kafka partition, first offset, records in offset order).
P0_FIRST = [
    # Paris 10:00 three times: the latest ingested wins; on equal ingestion time the higher offset wins (offset 2).
    rec(ingested_at=at("10:00:30"), temperature=25.0),
    rec(ingested_at=at("10:05:00"), temperature=25.5),
    rec(ingested_at=at("10:05:00"), temperature=26.0),
    # An invalid copy ingested last counts under its rule, not as a duplicate, and never wins.
    rec(ingested_at=at("10:09:00"), temperature=99.0),
    # Paris 11:00, also ingested at the same instant in partition 1 (below): the higher partition wins.
    rec(timestamp=at("11:00:00"), ingested_at=at("11:01:00"), temperature=20.0),
    # Berlin 09:00, replayed with the same Kafka coordinates into another object (P0_REPLAY).
    rec(city="Berlin", country="DE", timestamp=at("09:00:00"), ingested_at=at("09:00:30"), temperature=18.0),
    # A local offset: 14:00+02:00 is 12:00 UTC, an event of this day.
    rec(timestamp="2024-07-15T14:00:00+02:00", ingested_at=at("12:00:30"), temperature=29.0),
    # Strings are trimmed.
    rec(city="  Rome ", country=" IT", timestamp=at("15:00:00"), temperature=31.0),
]
P1 = [
    rec(timestamp=at("11:00:00"), ingested_at=at("11:01:00"), temperature=21.0),
    # Two Oslo observations in hour 23, the last one a second before midnight.
    rec(city="Oslo", country="NO", timestamp=at("23:30:00"), temperature=-4.0, humidity=85, wind_speed=8.0),
    rec(city="Oslo", country="NO", timestamp=at("23:59:59"), temperature=-5.0, humidity=80, wind_speed=10.0),
    # Range boundaries are kept.
    rec(city="Death Valley", country="US", timestamp=at("13:00:00"), temperature=60.0, humidity=100),
    rec(city="Vostok", country="AQ", timestamp=at("00:00:00"), temperature=-100.0, humidity=0),
    # One record per optional-field gap (90 each), and one with all of them (floored at 0).
    *[rec(**{"city": f"Gap {field}", "country": "XX", "timestamp": at("14:00:00"), field: gap})
      for field, gap in GAPS.items()],
    rec(city="Sparse", timestamp=at("15:00:00"), **GAPS),
]  # fmt: skip
# Berlin again with its original Kafka coordinates, in an object of its own (a re-read of offset 5).
P0_REPLAY = [P0_FIRST[5]]
P0_LATER = [
    # missing_required
    rec(city=None, timestamp=at("16:00:00")),
    rec(city="   ", timestamp=at("16:00:00")),
    rec(city="Lyon", timestamp="not-a-time"),
    rec(city="Lyon", timestamp=None),
    rec(city="Lyon", timestamp=at("16:00:00"), temperature=None),
    # temperature_out_of_range (the second also breaks the humidity range: counted once, under the first rule)
    rec(city="Lyon", timestamp=at("18:00:00"), temperature=60.01),
    rec(city="Lyon", timestamp=at("19:00:00"), temperature=-100.5, humidity=101),
    # humidity_out_of_range
    rec(city="Lyon", timestamp=at("20:00:00"), humidity=101),
    rec(city="Lyon", timestamp=at("21:00:00"), humidity=-1),
]
OBJECTS: list[tuple[date, int, int, list[dict[str, Any]]]] = [
    (DAY, 0, 0, P0_FIRST),
    (DAY, 1, 0, P1),
    (DAY, 0, 5, P0_REPLAY),
    (DAY, 0, 8, P0_LATER),
    # The neighbouring days, each in its own folder: never part of DAY's silver.
    (PREVIOUS, 0, 100, [rec(timestamp=at("23:59:59", PREVIOUS), ingested_at=at("23:59:59", PREVIOUS))]),
    (NEXT, 0, 200, [rec(timestamp=at("00:00:00", NEXT)), rec(city="Lyon", timestamp=at("01:00:00", NEXT))]),
    (EMPTY, 0, 300, []),
]  # fmt: skip

# (city, country, UTC timestamp, temperature, quality_score) of every silver row of DAY.
EXPECTED_ROWS = {
    ("Paris", "FR", at("10:00:00"), 26.0, 100),
    ("Paris", "FR", at("11:00:00"), 21.0, 100),
    ("Paris", "FR", at("12:00:00"), 29.0, 100),
    ("Berlin", "DE", at("09:00:00"), 18.0, 100),
    ("Rome", "IT", at("15:00:00"), 31.0, 100),
    ("Oslo", "NO", at("23:30:00"), -4.0, 100),
    ("Oslo", "NO", at("23:59:59"), -5.0, 100),
    ("Death Valley", "US", at("13:00:00"), 60.0, 100),
    ("Vostok", "AQ", at("00:00:00"), -100.0, 100),
    *[(f"Gap {field}", None if field == "country" else "XX", at("14:00:00"), 25.0, 90) for field in GAPS],
    ("Sparse", None, at("15:00:00"), 25.0, 0),
}
EXPECTED_DROPPED = {
    "missing_required": 5,
    "unstorable_text": 0,
    "temperature_out_of_range": 3,
    "humidity_out_of_range": 2,
    "duplicate": 4,  # two extra Paris 10:00, one Paris 11:00, the replayed Berlin
}
ROWS_IN = len(P0_FIRST) + len(P1) + len(P0_REPLAY) + len(P0_LATER)  # 8 + 18 + 1 + 9 = 36
# 9 complete rows, 12 with one gap, 1 with all twelve: (9 * 100 + 12 * 90 + 0) / 22.
EXPECTED_AVG_QUALITY = 1980 / 22
# Cities (with countries) of the day: Paris, Berlin, Rome, Oslo, Death Valley, Vostok, 12 "Gap …" and Sparse.
EXPECTED_DAILY_ROWS = 19
# Paris in hours 10, 11 and 12; both Oslo rows in hour 23; Berlin, Rome, Death Valley, Vostok, the 12 "Gap …" and
# Sparse in one hour each.
EXPECTED_HOURLY_ROWS = 3 + 1 + 4 + 12 + 1


@dataclass
class Lake:
    """A bronze and a silver bucket of our own on the S3 server, and how the tests use them."""

    settings: Settings
    bronze_bucket: str
    silver_bucket: str
    s3: Any

    def put_bronze(self, day: date, partition: int, first: int, records: list[dict[str, Any]]) -> str:
        key = BronzeObject(day, TOPIC, partition, first, first + max(len(records), 1) - 1).key
        columns: dict[str, list[Any]] = {name: [] for name in BRONZE_SCHEMA.names}
        for offset, record in enumerate(records, start=first):
            for name in COMPLETE:
                columns[name].append(record[name])
            ingested = datetime.fromisoformat(record["ingested_at"] or COMPLETE["ingested_at"])
            columns["kafka_topic"].append(TOPIC)
            columns["kafka_partition"].append(partition)
            columns["kafka_offset"].append(offset)
            columns["kafka_timestamp"].append(ingested.astimezone(UTC))
            columns["kafka_key"].append(f"{record['city']},{record['country']}")
            columns["raw_json"].append(json.dumps(record))
            columns["bronze_object"].append(key)
        self.s3.put_object(
            Bucket=self.bronze_bucket, Key=key, Body=to_parquet(pa.Table.from_pydict(columns, schema=BRONZE_SCHEMA))
        )
        return key

    def run(self, spark: SparkSession, day: date) -> SilverDayResult:
        return process_day(
            spark, self.settings, day, bronze_bucket=self.bronze_bucket, silver_bucket=self.silver_bucket
        )

    def read(self, spark: SparkSession, dataset: str, day: date) -> DataFrame:
        settings = self.settings.model_copy(update={"silver_bucket": self.silver_bucket})
        return read_silver_day(spark, settings, dataset, day)

    def object_keys(self, prefix: str = "") -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.silver_bucket, Prefix=prefix)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def checksums(self, prefix: str, data_only: bool = False) -> dict[str, str]:
        return {
            key: hashlib.sha256(self.s3.get_object(Bucket=self.silver_bucket, Key=key)["Body"].read()).hexdigest()
            for key in self.object_keys(prefix)
            if not data_only or key.endswith(".parquet")
        }


@pytest.fixture(scope="module")
def lake(settings: Settings) -> Iterator[Lake]:
    suffix = uuid.uuid4().hex[:10]
    lake = Lake(settings, f"it-silver-src-{suffix}", f"it-silver-{suffix}", s3_client(settings))
    for bucket in (lake.bronze_bucket, lake.silver_bucket):
        lake.s3.create_bucket(Bucket=bucket)
    try:
        for day, partition, first, records in OBJECTS:
            lake.put_bronze(day, partition, first, records)
        yield lake
    finally:
        for bucket in (lake.bronze_bucket, lake.silver_bucket):
            delete_bucket(lake.s3, bucket)


def delete_bucket(s3: Any, bucket: str) -> None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        if page.get("Contents"):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": o["Key"]} for o in page["Contents"]]})
    s3.delete_bucket(Bucket=bucket)


@pytest.fixture(scope="module")
def first_run(lake: Lake, spark: SparkSession) -> SilverDayResult:
    lake.run(spark, NEXT)  # silver of the next day exists before DAY runs, so we can see it is left alone
    return lake.run(spark, DAY)


def rows_of(frame: DataFrame) -> list[tuple[Any, ...]]:
    return sorted((tuple(row) for row in frame.collect()), key=lambda row: tuple(map(str, row)))


def utc_text(column: str) -> Column:
    return F.date_format(column, "yyyy-MM-dd'T'HH:mm:ss'Z'").alias(column)


def test_a_seeded_day_gives_exactly_the_expected_rows_counts_and_scores(
    first_run: SilverDayResult, lake: Lake, spark: SparkSession
) -> None:
    assert (first_run.rows_in, first_run.rows_out) == (ROWS_IN, len(EXPECTED_ROWS)) == (36, 22)
    assert first_run.dropped == EXPECTED_DROPPED
    assert first_run.avg_quality_score == pytest.approx(EXPECTED_AVG_QUALITY, abs=1e-12)
    assert (first_run.daily_rows, first_run.hourly_rows) == (EXPECTED_DAILY_ROWS, EXPECTED_HOURLY_ROWS)
    assert first_run.spark_seconds > 0

    cleaned = lake.read(spark, "weather_cleaned", DAY)
    rows = cleaned.select("city", "country", utc_text("timestamp"), "temperature", "quality_score").collect()
    assert len(rows) == 22
    assert {tuple(r) for r in rows} == EXPECTED_ROWS

    winners = {(r["city"], r["hour"]): r for r in cleaned.filter(F.col("city").isin("Paris", "Berlin")).collect()}
    assert (winners[("Paris", 10)]["kafka_partition"], winners[("Paris", 10)]["kafka_offset"]) == (0, 2)
    assert winners[("Paris", 11)]["kafka_partition"] == 1
    assert winners[("Berlin", 9)]["bronze_object"] == BronzeObject(DAY, TOPIC, 0, 0, 7).key  # replay tie: first key
    assert {(r["year"], r["month"], r["day"]) for r in cleaned.select("year", "month", "day").collect()} == {
        (2024, 7, 15)
    }
    # Silver keeps every contract field with its silver type, plus lineage and the derived fields.
    types = dict(cleaned.dtypes)
    assert {name: types[name] for name in OBSERVATION_TYPES} == OBSERVATION_TYPES
    assert {"kafka_offset", "raw_json", "bronze_object", "heat_index", "dew_point", "wind_chill"} <= set(types)


def test_aggregates_are_written_per_city_and_hour(first_run: SilverDayResult, lake: Lake, spark: SparkSession) -> None:
    daily = {(r["city"], r["country"]): r for r in lake.read(spark, "weather_daily_agg", DAY).collect()}
    hourly = {(r["city"], r["hour"]): r for r in lake.read(spark, "weather_hourly_agg", DAY).collect()}
    assert len(daily) == first_run.daily_rows == EXPECTED_DAILY_ROWS
    assert len(hourly) == first_run.hourly_rows == EXPECTED_HOURLY_ROWS

    paris = daily[("Paris", "FR")]
    assert paris["date"] == DAY
    assert paris["observation_count"] == 3
    assert paris["avg_temperature"] == pytest.approx((26.0 + 21.0 + 29.0) / 3, abs=1e-12)
    assert (paris["min_temperature"], paris["max_temperature"]) == (21.0, 29.0)
    assert daily[("Sparse", None)]["avg_quality_score"] == 0.0
    oslo_23 = hourly[("Oslo", 23)]
    assert oslo_23["observation_count"] == 2
    assert oslo_23["avg_temperature"] == pytest.approx(-4.5, abs=1e-12)
    assert oslo_23["avg_wind_speed"] == pytest.approx(9.0, abs=1e-12)
    assert sum(r["observation_count"] for r in daily.values()) == first_run.rows_out
    assert sum(r["observation_count"] for r in hourly.values()) == first_run.rows_out


def test_layout_is_the_zero_padded_day_folder_in_snappy_parquet(
    first_run: SilverDayResult, lake: Lake, spark: SparkSession
) -> None:
    for dataset in SILVER_DATASETS:
        prefix = silver_day_prefix(dataset, DAY)
        assert prefix == f"{dataset}/year=2024/month=07/day=15/"
        assert first_run.paths[dataset] == f"s3a://{lake.silver_bucket}/{prefix}"
        data = [key for key in lake.object_keys(prefix) if key.endswith(".parquet")]
        assert data, dataset
        for key in data:
            body = lake.s3.get_object(Bucket=lake.silver_bucket, Key=key)["Body"].read()
            metadata = pq.ParquetFile(io.BytesIO(body))
            row_group = metadata.metadata.row_group(0)
            assert {row_group.column(i).compression for i in range(row_group.num_columns)} == {"SNAPPY"}
    # Silver exists for the days that were run, not for PREVIOUS, whose bronze is in the same bucket.
    folders = {key.split("/", 1)[1].rsplit("/", 1)[0] for key in lake.object_keys()}
    assert {"year=2024/month=07/day=15", "year=2024/month=07/day=16"} <= folders
    assert "year=2024/month=07/day=14" not in folders
    with pytest.raises(ValueError, match="unknown silver dataset"):
        lake.read(spark, "weather_raw", DAY)


def test_rerun_gives_identical_files_no_duplicates_and_leaves_other_days_alone(
    first_run: SilverDayResult, lake: Lake, spark: SparkSession
) -> None:
    def snapshot() -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, set[str]]]:
        rows = {dataset: rows_of(lake.read(spark, dataset, DAY)) for dataset in SILVER_DATASETS}
        contents = {
            dataset: set(lake.checksums(silver_day_prefix(dataset, DAY), data_only=True).values())
            for dataset in SILVER_DATASETS
        }
        return rows, contents

    next_day = {dataset: lake.checksums(silver_day_prefix(dataset, NEXT)) for dataset in SILVER_DATASETS}
    assert all(next_day.values())
    rows_before, contents_before = snapshot()

    again = lake.run(spark, DAY)

    rows_after, contents_after = snapshot()
    assert rows_after == rows_before
    assert contents_after == contents_before  # byte-for-byte the same Parquet files (their names differ)
    assert (again.rows_out, again.dropped, again.daily_rows) == (22, EXPECTED_DROPPED, EXPECTED_DAILY_ROWS)
    cleaned = lake.read(spark, "weather_cleaned", DAY)
    assert cleaned.count() == cleaned.select("city", "country", "timestamp").distinct().count() == 22
    assert {dataset: lake.checksums(silver_day_prefix(dataset, NEXT)) for dataset in SILVER_DATASETS} == next_day


# Two runs of the day in a JVM of the project's configuration (the Spark Connect server's is not reachable from a
# client): the number of classes Spark compiled during each.
_COMPILATIONS_PER_RUN = """
import json, sys
from datetime import date
from weather_platform.lake.silver_writer import process_day
from weather_platform.lake.spark_config import build_spark_session
from weather_platform.settings import load_settings
bronze, silver, day = sys.argv[1], sys.argv[2], date.fromisoformat(sys.argv[3])
settings = load_settings().model_copy(update={"spark_master": "local[2]", "spark_remote": None})
spark = build_spark_session(settings, "codegen_cache_test")
compilations = spark._jvm.org.apache.spark.metrics.source.CodegenMetrics.METRIC_COMPILATION_TIME()
counts = []
for _ in range(2):
    before = compilations.getCount()
    process_day(spark, settings, day, bronze_bucket=bronze, silver_bucket=silver)
    counts.append(compilations.getCount() - before)
spark.stop()
print(json.dumps(counts))
"""


def test_a_rerun_compiles_none_of_the_classes_spark_generated_for_the_day_again(
    first_run: SilverDayResult, lake: Lake
) -> None:
    """Spark keeps every class it generated for silver's stages (`spark.sql.codegen.cache.maxEntries`; at Spark's
    default of 100 a re-run compiled about half of them again, and the JVM then compiled them to machine code
    again): a long-lived session, such as the Spark Connect server, re-runs a day on the first run's machine code."""
    argv = [sys.executable, "-c", _COMPILATIONS_PER_RUN, lake.bronze_bucket, lake.silver_bucket, DAY.isoformat()]
    local = {key: value for key, value in os.environ.items() if not key.startswith(("SPARK_REMOTE", "SPARK_CONNECT"))}
    done = subprocess.run(argv, env=local, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    first, second = json.loads(done.stdout.splitlines()[-1])

    assert first > 100  # more classes than Spark keeps by default
    assert second == 0


def test_late_bronze_replaces_the_day_as_a_whole(lake: Lake, spark: SparkSession) -> None:
    first = [rec(timestamp=at(f"0{h}:00:00", LATE), ingested_at=at(f"0{h}:00:30", LATE)) for h in (1, 2)]
    lake.put_bronze(LATE, 0, 400, first)
    assert lake.run(spark, LATE).rows_out == 2

    # Late data: a new observation and a re-delivery of 01:00 ingested later with a corrected temperature.
    late = [
        rec(timestamp=at("03:00:00", LATE), ingested_at=at("03:00:30", LATE)),
        rec(timestamp=at("01:00:00", LATE), ingested_at=at("04:00:00", LATE), temperature=27.5),
    ]
    lake.put_bronze(LATE, 0, 402, late)
    result = lake.run(spark, LATE)

    assert (result.rows_in, result.rows_out, result.dropped["duplicate"]) == (4, 3, 1)
    rows = lake.read(spark, "weather_cleaned", LATE).select(utc_text("timestamp"), "temperature").collect()
    assert sorted(tuple(r) for r in rows) == [
        (at("01:00:00", LATE), 27.5),
        (at("02:00:00", LATE), 25.0),
        (at("03:00:00", LATE), 25.0),
    ]
    hourly = lake.read(spark, "weather_hourly_agg", LATE).collect()
    assert sorted((r["hour"], r["observation_count"]) for r in hourly) == [(1, 1), (2, 1), (3, 1)]


@pytest.mark.parametrize("day", [EMPTY, MISSING], ids=["empty-bronze-object", "no-bronze-folder"])
def test_a_day_without_bronze_records_gives_empty_silver(
    first_run: SilverDayResult, lake: Lake, spark: SparkSession, day: date
) -> None:
    result = lake.run(spark, day)

    assert (result.rows_in, result.rows_out, result.daily_rows, result.hourly_rows) == (0, 0, 0, 0)
    assert result.dropped == dict.fromkeys(EXPECTED_DROPPED, 0)
    assert result.avg_quality_score is None
    for dataset in SILVER_DATASETS:  # an empty folder of the same schema as a day with rows
        frame = lake.read(spark, dataset, day)
        assert frame.count() == 0
        assert frame.dtypes == lake.read(spark, dataset, DAY).dtypes


BIG = date(2024, 7, 21)


def clock(day: date, seconds: int) -> str:
    return at(f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}", day)


def test_a_big_day_is_written_by_several_tasks_in_files_sorted_on_the_key(lake: Lake, spark: SparkSession) -> None:
    """The de-duplication's shuffle lays the cleaned rows out for the write: a day of 40,000 observations and 1,667
    later re-deliveries (another temperature) is written by more than one task, each file sorted on the key, no key
    in two files, the re-delivery kept."""
    noise = random.Random(21)  # descriptions that do not compress: the shuffle is then megabytes, as in a real day
    records = [
        rec(city=f"City {n:02d}", country="XX", timestamp=clock(BIG, 40 * step), ingested_at=at("23:59:00", BIG),
            temperature=float(step % 40), weather_description=noise.randbytes(100).hex())
        for n in range(20) for step in range(2000)
    ]  # fmt: skip
    redelivered = [{**r, "ingested_at": at("23:59:30", BIG), "temperature": -1.0} for r in records[::24]]
    half = len(records) // 2
    lake.put_bronze(BIG, 0, 0, records[:half])
    lake.put_bronze(BIG, 1, 0, records[half:])
    lake.put_bronze(BIG, 1, half, redelivered)

    result = lake.run(spark, BIG)

    assert (result.rows_in, result.rows_out, result.dropped["duplicate"]) == (
        len(records) + len(redelivered), len(records), len(redelivered)
    )  # fmt: skip
    keys = [key for key in lake.object_keys(silver_day_prefix("weather_cleaned", BIG)) if key.endswith(".parquet")]
    assert len(keys) > 1
    seen: set[tuple[Any, ...]] = set()
    temperatures: dict[tuple[Any, ...], float] = {}
    for key in keys:
        body = lake.s3.get_object(Bucket=lake.silver_bucket, Key=key)["Body"].read()
        table = pq.read_table(io.BytesIO(body), columns=["city", "country", "timestamp", "temperature"])
        rows = list(zip(*(table.column(c).to_pylist() for c in ("city", "country", "timestamp")), strict=True))
        assert rows == sorted(rows), key
        assert seen.isdisjoint(rows), key
        seen.update(rows)
        temperatures.update(zip(rows, table.column("temperature").to_pylist(), strict=True))
    assert len(seen) == len(records)
    redelivered_keys = {(r["city"], "XX", datetime.fromisoformat(r["timestamp"])) for r in redelivered}
    assert {temperatures[k] for k in temperatures if k in redelivered_keys} == {-1.0}
    assert sum(1 for k in temperatures if k in redelivered_keys) == len(redelivered)


def test_a_range_is_counted_as_it_is_written_as_a_counting_job_counts_it(
    first_run: SilverDayResult, lake: Lake, spark: SparkSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each day's rows in, drops per rule and duplicates come from the cleaning's own write (observed metrics, no
    counting job: it is made to fail here) and equal what the counting job of a range too long to observe gives."""
    days = [PREVIOUS, DAY, NEXT, EMPTY]

    def run() -> list[tuple[Any, ...]]:
        results = process_days(spark, lake.settings, days, lake.bronze_bucket, lake.silver_bucket)
        return [(r.day, r.rows_in, r.rows_out, r.dropped, r.daily_rows, r.hourly_rows) for r in results]

    def no_counting_job(*args: Any) -> None:
        raise AssertionError("a counting job ran")

    with monkeypatch.context() as patched:
        patched.setattr(silver_transforms, "_counted", no_counting_job)
        patched.setattr(silver_transforms, "MAX_OBSERVED_GROUPS", len(days))
        observed = run()
    with monkeypatch.context() as patched:
        patched.setattr(silver_transforms, "MAX_OBSERVED_GROUPS", 0)
        counted = run()

    assert observed == counted
    by_day = {row[0]: row for row in observed}
    assert by_day[DAY][1:4] == (ROWS_IN, len(EXPECTED_ROWS), EXPECTED_DROPPED)
    assert by_day[EMPTY][1:3] == (0, 0)
    assert sum(row[3]["duplicate"] for row in observed) >= 1
