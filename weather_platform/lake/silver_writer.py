"""Silver for one UTC day: the bronze day folder → `clean` → cleaned, daily and hourly datasets (docs/DESIGN.md §4.3).

Plain functions over a given SparkSession, so the Dagster multi-asset, the benchmark and the tests run the same code.
Each dataset's day folder is replaced as a whole: Spark writes straight into
`s3a://<silver>/<dataset>/year=YYYY/month=MM/day=DD/` with mode `overwrite`, which deletes that one folder, so a
re-run gives the same data (never twice) and no other day can be touched, whatever the rows contain. (Spark's
`partitionBy` would name the folders `month=7/day=5`, not the zero-padded names of the contract, and would let a
misfiled row overwrite another day.) Files are sorted on the dataset's key and their number depends on the row
count alone, so re-running unchanged bronze writes files of identical content.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from pyspark import StorageLevel
from pyspark.errors import AnalysisException
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from weather_platform.lake.layout import SILVER_DATASETS, bronze_day_url, silver_day_url
from weather_platform.settings import Settings
from weather_platform.streaming.bronze_writer import BRONZE_SCHEMA
from weather_platform.transforms.aggregates import INPUT_COLUMNS as AGGREGATE_INPUT
from weather_platform.transforms.aggregates import daily_aggregates, hourly_aggregates
from weather_platform.transforms.aggregates import prepare as prepare_aggregates
from weather_platform.transforms.silver import DEDUP_KEY, CleanResult, clean

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

CLEANED, DAILY, HOURLY = SILVER_DATASETS
# The unique key of each dataset, which is also its sort order on disk.
SORT_KEYS: dict[str, tuple[str, ...]] = {
    CLEANED: DEDUP_KEY,
    DAILY: ("city", "country", "date"),
    HOURLY: ("city", "country", "date", "hour"),
}
# Bronze as the bronze writer defines it: reading with it means no schema inference (one listing, no footers read
# up front) and an empty or missing day still has every column.
BRONZE_SPARK_SCHEMA = from_arrow_schema(BRONZE_SCHEMA)
# A cleaned row takes ~175 bytes of Snappy Parquet (its raw JSON is most of it): files of ~45 MB, and a day of a
# million rows is written by four tasks in parallel.
CLEANED_ROWS_PER_FILE = 250_000
DAYS_IN_FLIGHT = 4  # days of a range cleaned (then aggregated) at the same time


@dataclass(frozen=True)
class SilverDayResult:
    """What one day's run did: the figures the Dagster metadata and the checks report.

    rows_in = rows_out + sum(dropped.values()); `paths` maps each dataset to the day folder it replaced.
    """

    day: date
    rows_in: int
    rows_out: int
    dropped: dict[str, int]
    daily_rows: int
    hourly_rows: int
    daily_observations: int  # sum of observation_count over the daily rows written (= rows_out when consistent)
    hourly_observations: int
    avg_quality_score: float | None
    spark_seconds: float
    paths: dict[str, str]


def read_bronze_day(spark: SparkSession, bucket: str, day: date) -> DataFrame:
    """Every bronze object of that day folder only; a day with no objects is an empty frame, not an error."""
    try:
        return (
            spark.read.schema(BRONZE_SPARK_SCHEMA)
            .option("pathGlobFilter", "*.parquet")
            .parquet(bronze_day_url(bucket, day))
        )
    except AnalysisException as exc:
        if exc.getCondition() != "PATH_NOT_FOUND":
            raise
        return spark.createDataFrame([], BRONZE_SPARK_SCHEMA)


def read_silver_day(spark: SparkSession, settings: Settings, dataset: str, day: date) -> DataFrame:
    """One dataset's rows of one day, as `process_day` wrote them (its columns include year, month and day)."""
    return spark.read.parquet(silver_day_url(settings.silver_bucket, dataset, day))


def process_day(
    spark: SparkSession,
    settings: Settings,
    day: date,
    bronze_bucket: str | None = None,
    silver_bucket: str | None = None,
) -> SilverDayResult:
    """`process_days` of one day."""
    return process_days(spark, settings, [day], bronze_bucket, silver_bucket)[0]


def process_days(
    spark: SparkSession,
    settings: Settings,
    days: list[date],
    bronze_bucket: str | None = None,
    silver_bucket: str | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> list[SilverDayResult]:
    """Clean each bronze day and replace that day's folder of each silver dataset.

    Every day is cleaned before any is aggregated: a day's precipitation totals end with the hour closed by the next
    day's midnight reading (transforms/aggregates.py), so the aggregates of a range read the range's new cleaned
    rows. `progress` gets one line per day and phase.
    """
    silver = silver_bucket or settings.silver_bucket
    bronze = bronze_bucket or settings.bronze_bucket

    def clean_day(day: date) -> tuple[CleanResult, float]:
        started = time.perf_counter()
        result = clean(read_bronze_day(spark, bronze, day))
        # `coalesce` merges partitions without a shuffle of the wide rows, and never adds any: a small day gives
        # one file, and a day of many small bronze objects does not give as many small silver files.
        files = max(1, math.ceil(result.rows_out / CLEANED_ROWS_PER_FILE))
        frame = result.cleaned.coalesce(files).sortWithinPartitions(*SORT_KEYS[CLEANED])
        _write(frame, silver_day_url(silver, CLEANED, day))
        return result, time.perf_counter() - started

    def aggregate_day(day: date, cleaned: tuple[CleanResult, float]) -> SilverDayResult:
        return _aggregate_day(spark, silver, day, *cleaned)

    # A day is a handful of small Spark jobs whose time is mostly waiting (S3 round trips, commits, scheduling):
    # several days at once keep both cores busy. Each day's folders are still written by that day's jobs alone,
    # and every day is cleaned before any is aggregated.
    with ThreadPoolExecutor(max_workers=max(1, min(DAYS_IN_FLIGHT, len(days)))) as pool:
        cleaned = []
        for done, (day, outcome) in enumerate(zip(days, pool.map(clean_day, days), strict=True), start=1):
            cleaned.append(outcome)
            result = outcome[0]
            progress(f"[{done}/{len(days)}] {day}: {result.rows_in} bronze rows → {result.rows_out} cleaned, "
                     f"dropped {result.dropped}")  # fmt: skip
        results = []
        for done, aggregated in enumerate(pool.map(aggregate_day, days, cleaned), start=1):
            results.append(aggregated)
            progress(f"[{done}/{len(days)}] {aggregated.day}: {aggregated.daily_rows} daily and "
                     f"{aggregated.hourly_rows} hourly rows")  # fmt: skip
    return results


def _aggregate_day(spark: SparkSession, silver: str, day: date, result: CleanResult, seconds: float) -> SilverDayResult:
    """Replace the day's daily and hourly folders from its cleaned rows (and the next day's midnight rows).

    The aggregates read back only their columns of what was written (a fraction of the bytes, and exactly the rows
    silver now holds) instead of caching the wide cleaned rows or cleaning bronze a second time.
    """
    started = time.perf_counter()
    paths = {dataset: silver_day_url(silver, dataset, day) for dataset in SORT_KEYS}
    narrow = spark.read.parquet(paths[CLEANED]).select(*AGGREGATE_INPUT)  # never shuffle the wide raw rows
    next_midnight = _read_if_present(spark, silver_day_url(silver, CLEANED, day + timedelta(days=1)))
    # Every city in one task, in key order (the hourly-accumulation window sorts each city's rows by date, hour and
    # time): each aggregate adds its values in the same order whatever the file layout or cluster, so the
    # floating-point results are identical from run to run. Prepared once, persisted, read by both aggregates.
    prepared = prepare_aggregates(narrow, next_midnight)
    by_city = prepared.repartition("city", "country").persist(StorageLevel.MEMORY_AND_DISK)
    try:
        for dataset, aggregate in ((DAILY, daily_aggregates), (HOURLY, hourly_aggregates)):
            # Aggregated where the cities are, then brought together (a few rows a city) into one sorted file.
            _write(aggregate(by_city).repartition(1).sortWithinPartitions(*SORT_KEYS[dataset]), paths[dataset])
        avg_quality = narrow.agg(F.avg("quality_score")).first()
    finally:
        by_city.unpersist()
    sizes = _written_sizes(spark, paths)
    return SilverDayResult(
        day=day,
        rows_in=result.rows_in,
        rows_out=result.rows_out,
        dropped=result.dropped,
        daily_rows=sizes[DAILY][0],
        hourly_rows=sizes[HOURLY][0],
        daily_observations=sizes[DAILY][1],
        hourly_observations=sizes[HOURLY][1],
        avg_quality_score=avg_quality[0] if avg_quality else None,
        spark_seconds=seconds + time.perf_counter() - started,
        paths=paths,
    )


def _read_if_present(spark: SparkSession, url: str) -> DataFrame | None:
    """The Parquet folder at `url`, or None when it does not exist (a day not yet cleaned)."""
    try:
        return spark.read.parquet(url).select(*AGGREGATE_INPUT)
    except AnalysisException as exc:
        if exc.getCondition() != "PATH_NOT_FOUND":
            raise
        return None


def _written_sizes(spark: SparkSession, paths: dict[str, str]) -> dict[str, tuple[int, int]]:
    """(rows, sum of observation_count) of each aggregate as written: one Spark job reads both back."""
    written = [
        spark.read.parquet(paths[dataset]).select(F.lit(dataset).alias("dataset"), "observation_count")
        for dataset in (DAILY, HOURLY)
    ]
    rows = (
        written[0]
        .unionByName(written[1])
        .groupBy("dataset")
        .agg(F.count(F.lit(1)).alias("rows"), F.coalesce(F.sum("observation_count"), F.lit(0)).alias("total"))
        .collect()
    )
    found = {r["dataset"]: (int(r["rows"]), int(r["total"])) for r in rows}
    return {dataset: found.get(dataset, (0, 0)) for dataset in (DAILY, HOURLY)}


def _write(frame: DataFrame, path: str) -> None:
    frame.write.mode("overwrite").option("compression", "snappy").parquet(path)
