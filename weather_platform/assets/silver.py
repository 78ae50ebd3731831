"""`silver/*`: one Spark run per day cleans bronze and writes the cleaned rows and both aggregates, with checks."""

from collections.abc import Iterator
from datetime import UTC, date, datetime

import dagster as dg

from weather_platform.assets.bronze import BRONZE_KEY
from weather_platform.assets.partitions import DAILY, partition_day
from weather_platform.assets.policies import RETRY, endpoints
from weather_platform.lake.silver_writer import process_day, read_silver_day
from weather_platform.resources import LakeResource, SparkResource, WeatherApiResource
from weather_platform.service_errors import naming_services
from weather_platform.settings import load_settings
from weather_platform.transforms import quality

CLEANED = dg.AssetKey(["silver", "weather_cleaned"])
DAILY_AGG = dg.AssetKey(["silver", "weather_daily_agg"])
HOURLY_AGG = dg.AssetKey(["silver", "weather_hourly_agg"])
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
    retry_policy=RETRY,
)
def silver(
    context: dg.AssetExecutionContext, spark: SparkResource, lake: LakeResource, weather_api: WeatherApiResource
) -> Iterator[object]:
    day = partition_day(context)
    base = load_settings()
    settings = spark.lake_settings(base).model_copy(
        update={"bronze_bucket": lake.bronze_bucket, "silver_bucket": lake.silver_bucket}
    )
    session = spark.session(base)
    with naming_services(endpoints(lake=lake)):
        result = process_day(session, settings, day)
    context.log.info(
        f"{day}: {result.rows_in} bronze rows → {result.rows_out} cleaned, {result.daily_rows} daily and "
        f"{result.hourly_rows} hourly rows in {result.spark_seconds:.1f} s; dropped {result.dropped}"
    )
    dropped = {f"dropped_{rule}": count for rule, count in result.dropped.items()}
    yield dg.MaterializeResult(
        asset_key=CLEANED,
        metadata={
            "dagster/row_count": result.rows_out,
            "rows_in": result.rows_in,
            **dropped,
            "avg_quality_score": result.avg_quality_score if result.avg_quality_score is not None else float("nan"),
            "spark_seconds": round(result.spark_seconds, 3),
            "path": dg.MetadataValue.path(result.paths["weather_cleaned"]),
        },
    )
    yield dg.MaterializeResult(
        asset_key=DAILY_AGG,
        metadata={
            "dagster/row_count": result.daily_rows,
            "path": dg.MetadataValue.path(result.paths["weather_daily_agg"]),
        },
    )
    yield dg.MaterializeResult(
        asset_key=HOURLY_AGG,
        metadata={
            "dagster/row_count": result.hourly_rows,
            "path": dg.MetadataValue.path(result.paths["weather_hourly_agg"]),
        },
    )

    share = quality.completeness(result.rows_in, result.dropped.get("missing_required", 0))
    yield dg.AssetCheckResult(
        asset_key=CLEANED,
        check_name="completeness",
        passed=share is not None and share >= MIN_COMPLETENESS,
        description=None if share is not None else f"no bronze rows for {day}: nothing arrived for this day",
        metadata={"complete_share": round(share, 4) if share is not None else 0.0, "bronze_rows": result.rows_in},
    )
    cleaned = read_silver_day(session, settings, "weather_cleaned", day)
    coverage = quality.city_coverage(cleaned, weather_api.city_list, _hours_expected(day, datetime.now(UTC)))
    yield dg.AssetCheckResult(
        asset_key=CLEANED,
        check_name="coverage",
        passed=not coverage.missing,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"no readings of {', '.join(coverage.missing)}" if coverage.missing else None,
        metadata={
            "missing_cities": ", ".join(coverage.missing) or "none",
            "configured_cities": len(coverage.missing) + len(coverage.hours_observed),
            "hours_expected": coverage.expected_hours,
            "coverage_share": round(coverage.share, 4),
        },
    )
    valid = quality.validity(cleaned, datetime.now(UTC))
    yield dg.AssetCheckResult(
        asset_key=CLEANED,
        check_name="validity",
        passed=valid.violations == 0,
        metadata={
            "temperature_out_of_range": valid.temperature_out_of_range,
            "humidity_out_of_range": valid.humidity_out_of_range,
            "timestamp_in_future": valid.timestamp_in_future,
        },
    )
    duplicates = quality.duplicate_keys(cleaned)
    yield dg.AssetCheckResult(
        asset_key=CLEANED, check_name="uniqueness", passed=duplicates == 0, metadata={"duplicate_rows": duplicates}
    )
    daily_sum, hourly_sum = quality.hourly_daily_consistency(
        result.rows_out,
        read_silver_day(session, settings, "weather_daily_agg", day),
        read_silver_day(session, settings, "weather_hourly_agg", day),
    )
    yield dg.AssetCheckResult(
        asset_key=DAILY_AGG,
        check_name="consistency",
        passed=daily_sum == hourly_sum == result.rows_out,
        metadata={"cleaned_rows": result.rows_out, "daily_count_sum": daily_sum, "hourly_count_sum": hourly_sum},
    )


def _hours_expected(day: date, now: datetime) -> int:
    """The UTC hours of `day` that have begun by `now`: 24 for a past day, fewer today, none for a future day."""
    begun = (now - datetime(day.year, day.month, day.day, tzinfo=UTC)).total_seconds() // 3600 + 1
    return int(max(0, min(24, begun)))
