"""Bronze → silver through Dagster on real Spark and S3: two days, checks, idempotent re-runs."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest
from pyspark.sql import SparkSession

from weather_platform.assets.bronze import kafka_drain, weather_raw
from weather_platform.assets.ingestion import weather_events
from weather_platform.assets.silver import silver
from weather_platform.lake.silver_writer import read_silver_day
from weather_platform.resources import WeatherApiResource
from weather_platform_tests.e2e.conftest import Pipeline

pytestmark = pytest.mark.e2e


def _round(p: Pipeline, moment: datetime) -> None:
    p.set_time(moment)
    assert dg.materialize([weather_events], resources=p.resources, instance=p.instance).success


def _silver(p: Pipeline, day: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [kafka_drain, weather_raw, silver], partition_key=day, resources=p.resources, instance=p.instance
    )


def test_two_days_of_rounds_become_silver_with_passing_checks(pipeline: Pipeline, spark: SparkSession) -> None:
    for hour in (6, 12, 18):
        _round(pipeline, datetime(2026, 3, 13, hour, tzinfo=UTC))
        _round(pipeline, datetime(2026, 3, 14, hour, tzinfo=UTC))
    _round(pipeline, datetime(2026, 3, 14, 18, 2, tzinfo=UTC))  # same 10-minute bucket: a duplicate reading

    for day in ("2026-03-13", "2026-03-14"):
        result = _silver(pipeline, day)
        assert result.success
        checks = {(c.asset_key.to_user_string(), c.check_name): c.passed for c in result.get_asset_check_evaluations()}
        assert all(checks.values()), checks
        assert len(checks) == 7  # 2 bronze + 5 silver
        cleaned = result.asset_materializations_for_node("silver")[0].metadata
        rows_in = 12 if day == "2026-03-14" else 9
        assert cleaned["rows_in"].value == rows_in
        assert cleaned["dagster/row_count"].value == 9  # 3 cities x 3 hours, the duplicate removed
        assert cleaned["dropped_duplicate"].value == rows_in - 9

    day14 = read_silver_day(spark, pipeline.settings, "weather_cleaned", datetime(2026, 3, 14).date())
    assert sorted({r.hour for r in day14.select("hour").collect()}) == [6, 12, 18]
    daily = read_silver_day(spark, pipeline.settings, "weather_daily_agg", datetime(2026, 3, 14).date())
    assert sorted((r.city, r.observation_count) for r in daily.collect()) == [("London", 3), ("Paris", 3), ("Tokyo", 3)]


def test_rematerializing_a_day_gives_the_same_rows(pipeline: Pipeline, spark: SparkSession) -> None:
    for hour in (9, 15):
        _round(pipeline, datetime(2026, 3, 14, hour, tzinfo=UTC))
    assert _silver(pipeline, "2026-03-14").success
    day = datetime(2026, 3, 14).date()
    first = sorted(tuple(r) for r in read_silver_day(spark, pipeline.settings, "weather_cleaned", day).collect())
    assert dg.materialize(
        [weather_raw, silver],
        selection=[silver],
        partition_key="2026-03-14",
        resources=pipeline.resources,
        instance=pipeline.instance,
    ).success
    second = sorted(tuple(r) for r in read_silver_day(spark, pipeline.settings, "weather_cleaned", day).collect())
    assert first == second and len(first) == 6


def test_a_day_without_data_and_a_missing_city_fail_their_checks(pipeline: Pipeline) -> None:
    """Nothing arrived for 2026-03-10: bronze's check says the day has no objects, and silver's completeness fails
    (blocking) instead of a green 1.0 over 0 rows, and coverage names every configured city. On 2026-03-14 Tokyo is
    left out of the rounds: coverage names it."""
    bronze = dg.materialize([kafka_drain, weather_raw], partition_key="2026-03-10", resources=pipeline.resources,
                            instance=pipeline.instance, raise_on_error=False)  # fmt: skip
    assert not bronze.success  # the blocking bronze check stops the run: nothing downstream turns green
    (required,) = [c for c in bronze.get_asset_check_evaluations() if c.check_name == "required_columns"]
    assert not required.passed and required.partition == "2026-03-10"
    assert required.description == "no bronze objects for 2026-03-10: nothing arrived for this day"
    empty = dg.materialize([weather_raw, silver], selection=[silver], partition_key="2026-03-10",
                           resources=pipeline.resources, instance=pipeline.instance, raise_on_error=False)  # fmt: skip
    assert not empty.success
    checks = {c.check_name: c for c in empty.get_asset_check_evaluations()}
    assert not checks["completeness"].passed
    assert checks["completeness"].metadata["bronze_rows"].value == 0
    assert not checks["coverage"].passed
    assert checks["coverage"].metadata["missing_cities"].value == "London,GB, Paris,FR, Tokyo,JP"

    p = pipeline
    configured = p.resources["weather_api"]
    p.resources["weather_api"] = WeatherApiResource(base_url=configured.base_url, cities="London,GB;Paris,FR")
    _round(p, datetime(2026, 3, 14, 9, tzinfo=UTC))
    p.resources["weather_api"] = configured
    result = _silver(p, "2026-03-14")
    coverage = {c.check_name: c for c in result.get_asset_check_evaluations()}["coverage"]
    assert not coverage.passed and coverage.severity == dg.AssetCheckSeverity.ERROR
    assert coverage.metadata["missing_cities"].value == "Tokyo,JP"
    assert coverage.metadata["hours_expected"].value == 24
