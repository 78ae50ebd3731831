"""`silver/*`: one Spark session per run cleans each bronze day of the run (one day, or a backfill's range) into
the cleaned rows and both aggregates, and checks each day."""

from collections.abc import Iterator
from datetime import UTC, date, datetime

import dagster as dg

from weather_platform.assets.bronze import BRONZE_KEY
from weather_platform.assets.day_checks import DayChecks, partition_days
from weather_platform.assets.partitions import DAILY
from weather_platform.assets.policies import RETRY, SPARK_POOL, endpoints
from weather_platform.lake.layout import SILVER_DATASETS
from weather_platform.lake.silver_writer import SilverDayResult, process_days, read_silver
from weather_platform.resources import LakeResource, SparkResource, WeatherApiResource
from weather_platform.service_errors import naming_services
from weather_platform.transforms import quality

CLEANED = dg.AssetKey(["silver", "weather_cleaned"])
DAILY_AGG = dg.AssetKey(["silver", "weather_daily_agg"])
HOURLY_AGG = dg.AssetKey(["silver", "weather_hourly_agg"])
CLEANED_DATASET, DAILY_DATASET, HOURLY_DATASET = SILVER_DATASETS
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
        ),
        dg.AssetSpec(
            DAILY_AGG,
            deps=[CLEANED],
            group_name="silver",
            kinds={"spark", "s3", "parquet"},
            automation_condition=REFRESH_ON_UPSTREAM_CHANGE,
            description="Per (city, country, date): temperature, humidity, pressure, wind, feels-like, heat index, "
            "rain and snow (each hour's accumulation once), hours observed, quality and the dominant weather.",
        ),
        dg.AssetSpec(
            HOURLY_AGG,
            deps=[CLEANED],
            group_name="silver",
            kinds={"spark", "s3", "parquet"},
            automation_condition=REFRESH_ON_UPSTREAM_CHANGE,
            description="Per (city, country, date, hour): the daily metrics at hourly grain.",
        ),
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
    partitions_def=DAILY,
    # A backfill of many days is one run: one process, one Spark session, each day still written and checked alone.
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=SPARK_POOL,
    retry_policy=RETRY,
)
def silver(
    context: dg.AssetExecutionContext, spark: SparkResource, lake: LakeResource, weather_api: WeatherApiResource
) -> Iterator[object]:
    days = partition_days(context)
    settings = lake.layout()
    session = spark.session()
    with naming_services(endpoints(lake=lake)):
        results = process_days(session, settings, days, progress=context.log.info)
    yield from _materializations(results)
    checks = DayChecks(context)
    yield from checks.outputs()
    now = datetime.now(UTC)
    with naming_services(endpoints(lake=lake)):
        # One Spark job measures every day of the run on what it wrote.
        cleaned = read_silver(session, settings.silver_bucket, CLEANED_DATASET, days)
        expected = {day: _hours_expected(day, now) for day in days}
        measures = quality.measure_days(cleaned, weather_api.city_list, expected, now)
    for result in results:
        yield from _day_checks(checks, result, measures[result.day])


def _materializations(results: list[SilverDayResult]) -> Iterator[dg.MaterializeResult]:
    """One result per dataset: the day's figures for one day, the range's totals and a per-day table for a range
    (Dagster records it for each day of the range)."""
    single = len(results) == 1
    rows_out = sum(r.rows_out for r in results)
    dropped: dict[str, int] = {}
    for result in results:
        for rule, count in result.dropped.items():
            dropped[f"dropped_{rule}"] = dropped.get(f"dropped_{rule}", 0) + count
    days = "\n".join(
        f"| {r.day} | {r.rows_in} | {r.rows_out} | {r.daily_rows} | {r.hourly_rows} | {r.spark_seconds:.1f} |"
        for r in results
    )
    per_day = dg.MetadataValue.md(
        "| day | bronze rows | cleaned | daily | hourly | seconds |\n|---|---|---|---|---|---|\n" + days
    )
    count_key = "dagster/row_count" if single else "rows_in_range"
    scores = [r.avg_quality_score for r in results if r.avg_quality_score is not None]
    yield dg.MaterializeResult(
        asset_key=CLEANED,
        metadata={
            count_key: rows_out,
            "rows_in": sum(r.rows_in for r in results),
            **dropped,
            "avg_quality_score": sum(scores) / len(scores) if scores else float("nan"),
            "spark_seconds": round(sum(r.spark_seconds for r in results), 3),
            **({} if single else {"days": per_day}),
            **({"path": dg.MetadataValue.path(results[0].paths[CLEANED_DATASET])} if single else {}),
        },
    )
    aggregates = ((DAILY_AGG, DAILY_DATASET, "daily_rows"), (HOURLY_AGG, HOURLY_DATASET, "hourly_rows"))
    for key, dataset, attribute in aggregates:
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                count_key: sum(getattr(r, attribute) for r in results),
                **({"path": dg.MetadataValue.path(results[0].paths[dataset])} if single else {"days": len(results)}),
            },
        )


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
