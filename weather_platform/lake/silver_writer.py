"""Silver for a range of UTC days: the bronze day folders → `clean` → cleaned, daily and hourly datasets
(docs/DESIGN.md §4.3).

Plain functions over a given SparkSession, so the Dagster multi-asset, the benchmarks and the tests run the same
code. A run of any range of days (one day for the hourly cycle, a year for a backfill) is a fixed number of Spark
jobs, not a number per day: bronze of every day is read and cleaned in one pass, and each dataset is written once,
partitioned `year=YYYY/month=MM/day=DD/` (zero-padded strings, the contract's folder names) with Spark's dynamic
partition overwrite: exactly the folders of the days written are replaced, so a re-run gives the same data (never
twice) and no day outside the run is touched. A cleaned row's folder is its bronze folder (read from the file
path), never a value in the row, so a misfiled row cannot reach another day; a day of the run that has no rows gets
an empty file of the dataset's schema in place of what it held. The folder names carry year, month and day:
readers get them back as columns (`read_silver`). Each file is sorted on the dataset's key and a day's rows are
spread over files by a hash of that key (a day of a few rows is one file, a big day one file per task that writes
it), so re-running unchanged bronze writes files of identical content.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from pyspark import StorageLevel
from pyspark.errors import AnalysisException
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from weather_platform.lake.layout import BRONZE_PREFIX, SILVER_DATASETS, s3a_url, silver_day_url, silver_root_url
from weather_platform.settings import Settings
from weather_platform.streaming.bronze_writer import BRONZE_SCHEMA
from weather_platform.transforms.aggregates import INPUT_COLUMNS as AGGREGATE_INPUT
from weather_platform.transforms.aggregates import daily_aggregates, hourly_aggregates
from weather_platform.transforms.aggregates import prepare as prepare_aggregates
from weather_platform.transforms.silver import DEDUP_KEY, DROP_RULES, DUPLICATE_RULE, clean_grouped

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

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
PARTITION_COLUMNS = ("year", "month", "day")
AGGREGATES = (daily_aggregates, hourly_aggregates)
BRONZE_DAY = "_bronze_day"  # the bronze folder a record was read from, as YYYY-MM-DD
_FOLDER = r"/year=(\d{4})/month=(\d{2})/day=(\d{2})/"


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


def read_bronze_days(spark: SparkSession, bucket: str, days: list[date]) -> DataFrame:
    """Every bronze object of those day folders, with the folder's day as BRONZE_DAY; days without objects add
    nothing (no day at all: an empty frame with every column)."""
    reader = spark.read.schema(BRONZE_SPARK_SCHEMA).option("pathGlobFilter", "*.parquet")
    read = _existing_days(reader.parquet, s3a_url(bucket, f"{BRONZE_PREFIX}/"), days)
    if read is None:
        return spark.createDataFrame([], BRONZE_SPARK_SCHEMA).withColumn(BRONZE_DAY, F.lit(None).cast("string"))
    path = F.col("_metadata.file_path")
    parts = [F.regexp_extract(path, _FOLDER, group) for group in (1, 2, 3)]
    return read.withColumn(BRONZE_DAY, F.concat_ws("-", *parts))


def read_silver(spark: SparkSession, bucket: str, dataset: str, days: list[date]) -> DataFrame | None:
    """One dataset's rows of those days, with year, month and day (from the folder names) as the last columns; None
    when silver holds none of them."""
    root = silver_root_url(bucket, dataset)
    return _existing_days(spark.read.option("basePath", root).parquet, root, days)


def read_silver_day(spark: SparkSession, settings: Settings, dataset: str, day: date) -> DataFrame:
    """One dataset's rows of one day (its columns include year, month and day); AnalysisException PATH_NOT_FOUND
    when silver holds no such day."""
    url = silver_day_url(settings.silver_bucket, dataset, day)
    return spark.read.option("basePath", silver_root_url(settings.silver_bucket, dataset)).parquet(url)


def process_day(
    spark: SparkSession,
    settings: Settings,
    day: date,
    bronze_bucket: str | None = None,
    silver_bucket: str | None = None,
) -> SilverDayResult:
    """`process_days` of one day."""
    return process_days(spark, settings, [day], bronze_bucket, silver_bucket)[0]


@dataclass(frozen=True)
class DatasetDays:
    """A silver dataset's rows for a run's days, each with its `year/month/day` folder columns, and the days that
    have rows: what `replace_days` (and the lake IO manager) writes; the run's other days are emptied.

    `days_with_rows` may be known only once the rows are written (the cleaned rows are counted as they are
    written). `clustered`: the rows are already hashed on their folder and key and sorted on them within each task
    (the cleaned rows, by their de-duplication), so the write adds no shuffle of its own. `figures`: what to record
    of the rows once they are written (the cleaned rows' counts)."""

    frame: DataFrame
    days_with_rows: Callable[[], list[date]]
    clustered: bool = False
    figures: Callable[[], dict[str, Any]] | None = None

    @property
    def with_rows(self) -> list[date]:
        return self.days_with_rows()


@dataclass(frozen=True)
class CleanedDays:
    """Cleaned rows of a run's bronze and, once they are written, each day's (rows in, records dropped per rule);
    a day without bronze rows has no entry."""

    rows: DatasetDays
    counts: Callable[[], dict[str, tuple[int, dict[str, int]]]]

    @property
    def per_day(self) -> dict[date, tuple[int, dict[str, int]]]:
        return {date.fromisoformat(key): value for key, value in self.counts().items()}

    @property
    def rows_out(self) -> int:
        return sum(rows_in - sum(dropped.values()) for rows_in, dropped in self.per_day.values())

    @property
    def days_with_rows(self) -> list[date]:
        """The days that kept a row after every drop rule and the de-duplication."""
        return sorted(day for day, (rows_in, dropped) in self.per_day.items() if rows_in > sum(dropped.values()))


def clean_bronze(bronze: DataFrame, days: list[date]) -> CleanedDays:
    """Bronze rows of a run's `days` (as `read_bronze_days` gives them) → cleaned rows in their bronze folder's day:
    the calendar columns from the timestamp are the same values for every record the bronze writer filed; read
    back, they come from the folder names. The rows are counted per day and rule as they are cleaned and written
    (no Spark job of their own for a run of a few days, `MAX_OBSERVED_GROUPS`); the de-duplication's shuffle lays
    the rows out for the write (`clean_grouped`)."""
    folder = _folder_of(F.to_date(BRONZE_DAY))
    cleaning = clean_grouped(bronze, BRONZE_DAY, folder=folder, groups=[day.isoformat() for day in days])

    def with_rows() -> list[date]:  # known once the rows are written
        return cleaned.days_with_rows

    cleaned = CleanedDays(DatasetDays(cleaning.cleaned.drop(BRONZE_DAY), with_rows, clustered=True), cleaning.counts)
    return cleaned


@contextmanager
def aggregated(
    cleaned: DataFrame, following: DataFrame | None, with_rows: list[date]
) -> Iterator[tuple[DatasetDays, DatasetDays]]:
    """The daily and hourly aggregates of `cleaned` (the run's cleaned rows, as written: its narrow columns are
    read) plus `following`, the next day's cleaned rows whose midnight readings close the last day's precipitation.

    Every city in one task, in key order (`prepare_aggregates`): each aggregate adds its values in the same order
    whatever the file layout, so the floating-point results are identical from run to run. The prepared rows and
    both aggregates are kept (memory, then disk) while the block measures and writes them: the first job that uses
    an aggregate (`aggregate_sizes`) computes it, and the writes only copy its few rows (for 5 cities, each write
    1.5 → 0.5 s on the Spark Connect server).
    """
    prepared = prepare_aggregates(cleaned.select(*AGGREGATE_INPUT), _inputs(following))
    with ExitStack() as kept:
        by_city = kept.enter_context(_persisted(prepared))
        daily, hourly = (
            kept.enter_context(_persisted(aggregate(by_city).withColumns(_folder_of(F.col("date")))))
            for aggregate in AGGREGATES
        )
        yield DatasetDays(daily, lambda: with_rows), DatasetDays(hourly, lambda: with_rows)


@contextmanager
def _persisted(frame: DataFrame) -> Iterator[DataFrame]:
    """`frame` kept in memory (then on disk) once a job has computed it, until the block ends."""
    kept = frame.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        yield kept
    finally:
        kept.unpersist()


def process_days(
    spark: SparkSession,
    settings: Settings,
    days: list[date],
    bronze_bucket: str | None = None,
    silver_bucket: str | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> list[SilverDayResult]:
    """Clean the bronze of `days` and replace those days' folders of each silver dataset, in a fixed number of
    Spark jobs whatever the number of days: the silver step's work without Dagster (its lake IO manager writes
    with the same `replace_days`), for benchmarks and tests.

    Every day is cleaned before any is aggregated: a day's precipitation totals end with the hour closed by the
    next day's midnight reading (transforms/aggregates.py), read from the range itself or, for its last day, from
    silver's next day when it exists. `progress` gets one line per phase.
    """
    started = time.perf_counter()
    silver = silver_bucket or settings.silver_bucket
    cleaned = clean_bronze(read_bronze_days(spark, bronze_bucket or settings.bronze_bucket, days), days)
    replace_days(spark, cleaned.rows, silver, CLEANED, days)
    progress(cleaning_line(days, cleaned))
    with aggregated(*aggregation_inputs(partial(read_silver, spark, silver), days, cleaned)) as (daily, hourly):
        sizes = aggregate_sizes(daily, hourly)
        replace_days(spark, daily, silver, DAILY, days)
        replace_days(spark, hourly, silver, HOURLY, days)
    progress(aggregates_line(days, sizes))
    results = day_results(days, cleaned, sizes, time.perf_counter() - started)
    for result in results:
        result.paths.update({dataset: silver_day_url(silver, dataset, result.day) for dataset in SORT_KEYS})
    return results


def aggregation_inputs(
    read: Callable[[str, list[date]], DataFrame | None], days: list[date], cleaned: CleanedDays
) -> tuple[DataFrame, DataFrame | None, list[date]]:
    """What `aggregated` takes, once the run's cleaned rows are written (`read`: a silver dataset's days, as
    `read_silver` gives them): those rows read back (their narrow columns cost far less than cleaning again), the
    day after the run from silver when it holds it, and the days with rows. No cleaned rows at all: the cleaned
    frame itself (empty aggregates)."""
    with_rows = cleaned.rows.with_rows
    written = read(CLEANED, with_rows)
    after = days[-1] + timedelta(days=1) if days else None
    following = read(CLEANED, [after]) if after and after not in days else None
    return (written if written is not None else cleaned.rows.frame), following, with_rows


def cleaning_line(days: list[date], cleaned: CleanedDays) -> str:
    bronze_rows = sum(rows_in for rows_in, _ in cleaned.per_day.values())
    return f"{len(days)} days: {bronze_rows} bronze rows → {cleaned.rows_out} cleaned"


def aggregates_line(days: list[date], sizes: dict[date, AggregateSizes]) -> str:
    daily_rows, hourly_rows = (sum(getattr(w, n) for w in sizes.values()) for n in ("daily_rows", "hourly_rows"))
    return f"{len(days)} days: {daily_rows} daily and {hourly_rows} hourly rows"


def day_results(
    days: list[date], cleaned: CleanedDays, sizes: dict[date, AggregateSizes], seconds: float
) -> list[SilverDayResult]:
    """One result per day of the run (`seconds`: the run's Spark time, shared out evenly)."""
    zero = dict.fromkeys((*DROP_RULES, DUPLICATE_RULE), 0)
    results = []
    for day in days:
        rows_in, dropped = cleaned.per_day.get(day, (0, zero))
        written = sizes.get(day, AggregateSizes())
        results.append(
            SilverDayResult(
                day=day,
                rows_in=rows_in,
                rows_out=rows_in - sum(dropped.values()),
                dropped=dropped,
                daily_rows=written.daily_rows,
                hourly_rows=written.hourly_rows,
                daily_observations=written.daily_observations,
                hourly_observations=written.hourly_observations,
                avg_quality_score=written.avg_quality_score,
                spark_seconds=seconds / max(1, len(days)),
                paths={},
            )
        )
    return results


def _inputs(frame: DataFrame | None) -> DataFrame | None:
    return None if frame is None else frame.select(*AGGREGATE_INPUT)


def _folder_of(day: Column) -> dict[str, Column]:
    """The zero-padded partition strings of a date column: the contract's folder names."""
    return {
        "year": F.date_format(day, "yyyy"),
        "month": F.date_format(day, "MM"),
        "day": F.date_format(day, "dd"),
    }


def replace_days(spark: SparkSession, rows: DatasetDays, bucket: str, dataset: str, days: list[date]) -> None:
    """Replace exactly the folders of `days` of `dataset` with `rows` (each row in its year/month/day folder):
    dynamic partition overwrite rewrites the days that have rows, in files sorted on the dataset's key (rows not
    `clustered` are first brought together by day, one file per day: a file costs S3 renames, the shuffle of the
    small aggregates costs less); each other day gets an empty file of the dataset's schema, so a day without data
    reads as empty, never as missing or as its old rows."""
    frame = rows.frame if rows.clustered else rows.frame.repartition(*PARTITION_COLUMNS)
    (
        frame.sortWithinPartitions(*PARTITION_COLUMNS, *SORT_KEYS[dataset])  # no sort of its own when clustered
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .option("compression", "snappy")
        .partitionBy(*PARTITION_COLUMNS)
        .parquet(silver_root_url(bucket, dataset))
    )
    empty = spark.createDataFrame([], rows.frame.drop(*PARTITION_COLUMNS).schema)
    for day in sorted(set(days) - set(rows.with_rows)):  # an overwrite of the day's folder: what it held is gone
        empty.write.mode("overwrite").option("compression", "snappy").parquet(silver_day_url(bucket, dataset, day))


@dataclass(frozen=True)
class AggregateSizes:
    """One day's aggregates: rows and observation_count sums, and the average quality of its readings."""

    daily_rows: int = 0
    daily_observations: int = 0
    hourly_rows: int = 0
    hourly_observations: int = 0
    avg_quality_score: float | None = None


def aggregate_sizes(daily: DatasetDays, hourly: DatasetDays) -> dict[date, AggregateSizes]:
    """Each day's aggregates (of the days with rows), measured on the frames about to be written rather than read
    back; one Spark job for both (the day's quality is the daily rows' average weighted by their counts: the
    average over its readings)."""
    frames = []
    for name, rows in (("daily", daily.frame), ("hourly", hourly.frame)):
        weighted = F.col("avg_quality_score") * F.col("observation_count") if name == "daily" else F.lit(None)
        columns = (F.lit(name).alias("dataset"), "date", "observation_count", weighted.alias("quality"))
        frames.append(rows.select(*columns))
    found = {
        (r["dataset"], r["date"]): (int(r["rows"]), int(r["total"]), r["quality"])
        for r in frames[0]
        .unionByName(frames[1])
        .groupBy("dataset", "date")
        .agg(
            F.count(F.lit(1)).alias("rows"),
            F.coalesce(F.sum("observation_count"), F.lit(0)).alias("total"),
            F.sum("quality").alias("quality"),
        )
        .collect()
    }
    sizes = {}
    for day in daily.with_rows:
        daily_rows, daily_total, quality = found.get(("daily", day), (0, 0, None))
        hourly_rows, hourly_total, _ = found.get(("hourly", day), (0, 0, None))
        average = float(quality) / daily_total if quality is not None and daily_total else None
        sizes[day] = AggregateSizes(daily_rows, daily_total, hourly_rows, hourly_total, average)
    return sizes


def _existing_days(read: Callable[[str], DataFrame], root: str, days: list[date]) -> DataFrame | None:
    """`read` of the day folders of `days` under a table root that exist, None when none does: one Hadoop glob of
    them all (Spark lists each month once and skips the days it does not find), resolved here so that a Spark Connect
    session, which analyses lazily, reports a missing range at once as a classic session does."""
    if not days:
        return None
    try:
        frame = read(days_glob(root, days))
        frame.schema  # noqa: B018 - resolves the glob
    except AnalysisException as exc:
        if exc.getCondition() == "PATH_NOT_FOUND":
            return None
        raise
    return frame


def days_glob(root: str, days: list[date]) -> str:
    """The Hadoop glob of the `year=/month=/day=` folders of `days` under `root`, e.g.
    `root/{year=2026/month=11/day={29,30},year=2026/month=12/day=01}/`."""
    months: dict[str, list[str]] = {}
    for day in sorted(set(days)):
        months.setdefault(f"year={day:%Y}/month={day:%m}", []).append(f"{day:%d}")
    folders = [f"{month}/day={_alternatives(numbers)}" for month, numbers in months.items()]
    return f"{root.rstrip('/')}/{_alternatives(folders)}/"


def _alternatives(values: list[str]) -> str:
    return values[0] if len(values) == 1 else "{" + ",".join(values) + "}"
