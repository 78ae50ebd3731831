"""Where silver's time goes: the same bronze day as `bench_silver`, written by steps that each add one part of
silver's work to a plain Spark read + write, in one warm JVM (`local[2]`), alternating, so that the differences
between the rows say what each part costs.

    python -m weather_platform_tests.benchmarks.silver_phases [--rows 1000000] [--rounds 2]

Runs on the local stack (`eval "$(weather-platform stack env)"`) in a fresh bucket pair, removed after. The first
round warms the JVM and is not reported; the table shows the seconds of each later round. Figures are reported,
never asserted (docs/DESIGN.md §7).
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from rich.console import Console
from rich.table import Table

from weather_platform.connections import s3_client
from weather_platform.lake import silver_writer
from weather_platform.lake.layout import bronze_day_url, s3a_url
from weather_platform.lake.spark_config import build_spark_session
from weather_platform.settings import Settings, load_settings
from weather_platform.transforms import silver as transforms
from weather_platform_tests.benchmarks.bench_silver import DAY, bronze_objects
from weather_platform_tests.lanes import empty_bucket


def steps(spark: SparkSession, settings: Settings, bronze: str, silver: str) -> dict[str, Callable[[], None]]:
    """Name → one write of the day; each step adds one part of silver's work to the one before it."""
    folder = silver_writer._folder_of(F.to_date(silver_writer.BRONZE_DAY))

    def read() -> DataFrame:
        return silver_writer.read_bronze_days(spark, bronze, [DAY])

    def partitioned(frame: DataFrame, name: str, sort: bool = False) -> None:
        columns = silver_writer.PARTITION_COLUMNS
        rows = frame.drop(silver_writer.BRONZE_DAY)
        if sort:
            rows = rows.sortWithinPartitions(*columns, *transforms.DEDUP_KEY)
        rows.write.mode("overwrite").partitionBy(*columns).parquet(s3a_url(silver, f"_phases/{name}/"))

    def tagged() -> DataFrame:
        return transforms.cast_types(read()).withColumn(transforms._RULE, transforms._drop_rule())

    def cleaned_without_deduplication() -> DataFrame:
        return transforms.enrich(transforms._kept(tagged()).withColumns(folder), calendar=False)

    def narrow_deduplication() -> None:
        valid = tagged().where(F.col(transforms._RULE).isNull())
        narrow = valid.select(*transforms.DEDUP_KEY, "ingested_at", "kafka_partition", "kafka_offset", "bronze_object")
        transforms.deduplicate(narrow).count()

    def silver_run() -> None:
        silver_writer.process_days(spark, settings, [DAY], bronze_bucket=bronze, silver_bucket=silver)

    return {
        "plain read + write (the limit)": lambda: read().write.mode("overwrite").parquet(s3a_url(silver, "_limit/")),
        "+ folder columns, partitioned write": lambda: partitioned(read().withColumns(folder), "folders"),
        "+ cast types": lambda: partitioned(transforms.cast_types(read()).withColumns(folder), "typed"),
        "+ drop rules, enrich (no de-duplication)": lambda: partitioned(cleaned_without_deduplication(), "rules"),
        "+ files sorted on the key": lambda: partitioned(cleaned_without_deduplication(), "sorted", sort=True),
        "de-duplication of narrow rows only (no write)": narrow_deduplication,
        "process_day (cleaned, daily, hourly)": silver_run,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="bronze records in the day")
    parser.add_argument("--rounds", type=int, default=2, help="reported rounds of every step (after one warm-up)")
    args = parser.parse_args(argv)
    base = load_settings()
    s3 = s3_client(base)
    suffix = uuid.uuid4().hex[:10]
    bronze, silver = f"phases-bronze-{suffix}", f"phases-silver-{suffix}"
    for bucket in (bronze, silver):
        s3.create_bucket(Bucket=bucket)
    os.environ.pop("SPARK_REMOTE", None)  # this process's own JVM, as bench_silver's sides
    settings = base.model_copy(update={"spark_master": "local[2]", "spark_remote": None})
    spark = build_spark_session(settings, "silver_phases")
    seconds: dict[str, list[float]] = {}
    try:
        objects = bronze_objects(args.rows)
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda o: s3.put_object(Bucket=bronze, Key=o[0], Body=o[1]), objects))
        print(f"bronze day {DAY} ({bronze_day_url(bronze, DAY)}): {args.rows:,} records, {len(objects)} objects")
        named = steps(spark, settings, bronze, silver)
        for round_ in range(args.rounds + 1):
            for name, step in named.items():
                started = time.perf_counter()
                step()
                if round_:
                    seconds.setdefault(name, []).append(time.perf_counter() - started)
            print(f"round {round_} done{' (warm-up)' if not round_ else ''}")
    finally:
        spark.stop()
        for bucket in (bronze, silver):
            empty_bucket(s3, bucket)
    table = Table(title=f"silver's phases, {args.rows:,} bronze rows, one warm JVM (local[2]), seconds per round")
    table.add_column("step")
    for round_ in range(1, args.rounds + 1):
        table.add_column(f"round {round_}", justify="right")
    for name, values in seconds.items():
        table.add_row(name, *(f"{value:.1f}" for value in values))
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
