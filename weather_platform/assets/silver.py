"""`silver/*`: the bronze days of the run (one day, or a backfill's range) cleaned into rows and both aggregates,
handed to the lake IO manager that replaces exactly those days, then each day checked on what was written."""

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import dagster as dg
from pyspark.sql import DataFrame

from weather_platform.assets.bronze import BRONZE_KEY
from weather_platform.assets.day_checks import DayChecks, partition_days
from weather_platform.assets.partitions import DAILY
from weather_platform.assets.policies import RETRY, SPARK_POOL
from weather_platform.lake.layout import SILVER_DATASETS
from weather_platform.lake.silver_writer import (
    CleanedDays,
    SilverDayResult,
    aggregate_sizes,
    aggregated,
    aggregates_line,
    aggregation_inputs,
    clean_bronze,
    cleaning_line,
    day_results,
)
from weather_platform.resources import WeatherApiResource
from weather_platform.resources.io_managers import LakeReads
from weather_platform.service_errors import naming_services
from weather_platform.transforms import quality

CLEANED = dg.AssetKey(["silver", "weather_cleaned"])
DAILY_AGG = dg.AssetKey(["silver", "weather_daily_agg"])
HOURLY_AGG = dg.AssetKey(["silver", "weather_hourly_agg"])
CLEANED_DATASET, DAILY_DATASET, HOURLY_DATASET = SILVER_DATASETS
LAKE_STORAGE = "lake_io_manager"  # resources/io_managers.py: LakeIOManager
MIN_COMPLETENESS = 0.9
# React to bronze changes of any day, not only the latest: late data re-materializes older days.
REFRESH_ON_UPSTREAM_CHANGE = dg.AutomationCondition.eager().without(dg.AutomationCondition.in_latest_time_window())


def _check(name: str, asset: dg.AssetKey, description: str, blocking: bool = True) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(name, asset=asset, blocking=blocking, partitions_def=DAILY, description=description)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            CLEANED,
            deps=[BRONZE_KEY],
            group_name="silver",
            kinds={"spark", "s3", "parquet"},
            automation_condition=REFRESH_ON_UPSTREAM_CHANGE,
            description="Typed, filtered (required fields, temperature -100…60 °C, humidity 0…100 %), de-duplicated on "
            "(city, country, timestamp) keeping the latest ingested, enriched with calendar fields, heat index, dew "
            "point, wind chill, feels-like (MetPy's definitions) and a quality score. "
            "`s3://<silver bucket>/weather_cleaned/year=/month=/day=/`",
        ).with_io_manager_key(LAKE_STORAGE),
        dg.AssetSpec(
            DAILY_AGG,
            deps=[CLEANED],
            group_name="silver",
            kinds={"spark", "s3", "parquet"},
            automation_condition=REFRESH_ON_UPSTREAM_CHANGE,
            description="Per (city, country, date): temperature, humidity, pressure, wind, feels-like, heat index, "
            "rain and snow (each hour's accumulation once), hours observed, quality and the dominant weather.",
        ).with_io_manager_key(LAKE_STORAGE),
        dg.AssetSpec(
            HOURLY_AGG,
            deps=[CLEANED],
            group_name="silver",
            kinds={"spark", "s3", "parquet"},
            automation_condition=REFRESH_ON_UPSTREAM_CHANGE,
            description="Per (city, country, date, hour): the daily metrics at hourly grain.",
        ).with_io_manager_key(LAKE_STORAGE),
    ],
    check_specs=[
        _check("completeness", CLEANED, f"required fields present in ≥ {MIN_COMPLETENESS:.0%} of the bronze rows"),
        _check("validity", CLEANED, "temperature and humidity in range, no observation time in the future"),
        _check("uniqueness", CLEANED, "one row per (city, country, timestamp)"),
        _check("consistency", DAILY_AGG, "sum of hourly counts = sum of daily counts = cleaned rows"),
        _check(
            "coverage",
            CLEANED,
            "every configured city (WEATHER_CITIES) has readings this day; hours observed of the hours expected so far",
            blocking=False,
        ),
    ],
    ins={"bronze": dg.AssetIn(BRONZE_KEY, input_manager_key=LAKE_STORAGE)},
    partitions_def=DAILY,
    # A backfill of many days is one run: one process, one Spark session, each day still written and checked alone.
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=SPARK_POOL,
    retry_policy=RETRY,
)
def silver(
    context: dg.AssetExecutionContext,
    bronze: DataFrame,
    lake_io_manager: dg.ResourceParam[LakeReads],
    weather_api: WeatherApiResource,
) -> Iterator[object]:
    days = partition_days(context)
    started = time.perf_counter()
    lake = lake_io_manager
    with naming_services(lake.endpoints):
        cleaned = clean_bronze(bronze, days)
        # The rows are counted as they are written: the lake IO manager records the figures after its write.
        rows = replace(cleaned.rows, figures=lambda: _cleaned_metadata(days, cleaned))
        yield dg.Output(rows, output_name=_output(CLEANED))
        context.log.info(cleaning_line(days, cleaned))
        # The aggregates read what was just written (narrow columns) and the day after the run.
        with aggregated(*aggregation_inputs(lake.read, days, cleaned)) as (daily, hourly):
            sizes = aggregate_sizes(daily, hourly)
            results = day_results(days, cleaned, sizes, time.perf_counter() - started)
            yield dg.Output(daily, output_name=_output(DAILY_AGG), metadata=_aggregate_metadata(results, "daily"))
            yield dg.Output(hourly, output_name=_output(HOURLY_AGG), metadata=_aggregate_metadata(results, "hourly"))
        context.log.info(aggregates_line(days, sizes))
        checks = DayChecks(context)
        yield from checks.outputs()
        now = datetime.now(UTC)
        # One Spark job measures every day of the run on what was written.
        expected = {day: _hours_expected(day, now) for day in days}
        measures = quality.measure_days(lake.read(CLEANED_DATASET, days), weather_api.city_list, expected, now)
    for result in results:
        yield from _day_checks(checks, result, measures[result.day])


def _output(key: dg.AssetKey) -> str:
    return key.to_python_identifier()


def _cleaned_metadata(days: list[date], cleaned: CleanedDays) -> dict[str, Any]:
    """The day's figures for one day; for a range, the range's totals and a per-day table (Dagster records it for
    each day of the range)."""
    dropped: dict[str, int] = {}
    for _, rules in cleaned.per_day.values():
        for rule, count in rules.items():
            dropped[f"dropped_{rule}"] = dropped.get(f"dropped_{rule}", 0) + count
    metadata: dict[str, Any] = {
        "dagster/row_count" if len(days) == 1 else "rows_in_range": cleaned.rows_out,
        "rows_in": sum(rows_in for rows_in, _ in cleaned.per_day.values()),
        **dropped,
    }
    if len(days) > 1:
        lines = []
        for day in days:
            rows_in, rules = cleaned.per_day.get(day, (0, {}))
            lines.append(f"| {day} | {rows_in} | {rows_in - sum(rules.values())} |")
        table = "| day | bronze rows | cleaned |\n|---|---|---|\n" + "\n".join(lines)
        metadata["days"] = dg.MetadataValue.md(table)
    return metadata


def _aggregate_metadata(results: list[SilverDayResult], grain: str) -> dict[str, Any]:
    rows = sum(getattr(r, f"{grain}_rows") for r in results)
    metadata: dict[str, Any] = {"dagster/row_count" if len(results) == 1 else "rows_in_range": rows}
    if grain == "daily":
        scores = [r.avg_quality_score for r in results if r.avg_quality_score is not None]
        metadata["avg_quality_score"] = sum(scores) / len(scores) if scores else float("nan")
        metadata["spark_seconds"] = round(sum(r.spark_seconds for r in results), 3)
    return metadata


def _day_checks(
    checks: DayChecks, result: SilverDayResult, measures: quality.DayMeasures
) -> Iterator[dg.AssetCheckEvaluation]:
    """The five silver checks of one day, from the run's figures and the day's measures."""
    day = result.day
    share = quality.completeness(result.rows_in, result.dropped.get("missing_required", 0))
    yield from checks.result(
        CLEANED,
        "completeness",
        day,
        passed=share is not None and share >= MIN_COMPLETENESS,
        description=None if share is not None else f"no bronze rows for {day}: nothing arrived for this day",
        metadata={"complete_share": round(share, 4) if share is not None else 0.0, "bronze_rows": result.rows_in},
    )
    coverage, valid = measures.coverage, measures.validity
    yield from checks.result(
        CLEANED,
        "coverage",
        day,
        passed=not coverage.missing,
        description=f"no readings of {', '.join(coverage.missing)}" if coverage.missing else None,
        metadata={
            "missing_cities": ", ".join(coverage.missing) or "none",
            "configured_cities": len(coverage.missing) + len(coverage.hours_observed),
            "hours_expected": coverage.expected_hours,
            "coverage_share": round(coverage.share, 4),
        },
    )
    yield from checks.result(
        CLEANED,
        "validity",
        day,
        passed=valid.violations == 0,
        metadata={
            "temperature_out_of_range": valid.temperature_out_of_range,
            "humidity_out_of_range": valid.humidity_out_of_range,
            "timestamp_in_future": valid.timestamp_in_future,
        },
    )
    yield from checks.result(
        CLEANED,
        "uniqueness",
        day,
        passed=measures.duplicate_rows == 0,
        metadata={"duplicate_rows": measures.duplicate_rows},
    )
    daily_sum, hourly_sum = result.daily_observations, result.hourly_observations
    yield from checks.result(
        DAILY_AGG,
        "consistency",
        day,
        passed=daily_sum == hourly_sum == result.rows_out,
        metadata={"cleaned_rows": result.rows_out, "daily_count_sum": daily_sum, "hourly_count_sum": hourly_sum},
    )


def _hours_expected(day: date, now: datetime) -> int:
    """The UTC hours of `day` that have begun by `now`: 24 for a past day, fewer today, none for a future day."""
    begun = (now - datetime(day.year, day.month, day.day, tzinfo=UTC)).total_seconds() // 3600 + 1
    return int(max(0, min(24, begun)))
