"""Simulator → Kafka → bronze through Dagster itself: materializations, metadata, checks, late days, failures."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg
import pytest

from weather_platform.assets.bronze import BRONZE_KEY, DRAIN_KEY, kafka_drain, weather_raw
from weather_platform.assets.ingestion import weather_events
from weather_platform.lake import bronze_store
from weather_platform.resources import WeatherApiResource
from weather_platform.sources.simulator import Fault
from weather_platform_tests.e2e.conftest import Pipeline

pytestmark = pytest.mark.e2e
INGESTION_KEY = dg.AssetKey(["ingestion", "weather_events"])


def _materialize(
    p: Pipeline, assets: list[dg.AssetsDefinition], day: str, **kwargs: object
) -> dg.ExecuteInProcessResult:
    return dg.materialize(assets, partition_key=day, resources=p.resources, instance=p.instance, **kwargs)  # type: ignore[arg-type]


def _rows(p: Pipeline, day: date) -> int:
    table = bronze_store.read_day(p.s3, p.settings.bronze_bucket, day, columns=["kafka_offset"])
    return 0 if table is None else table.num_rows


def test_polling_round_lands_in_bronze_with_passing_checks(pipeline: Pipeline) -> None:
    result = _materialize(pipeline, [weather_events, kafka_drain, weather_raw], "2026-03-14")
    assert result.success

    ingest = result.asset_materializations_for_node("ingestion__weather_events")[0].metadata
    assert (ingest["sent"].value, ingest["failed"].value) == (3, 0)
    drain = result.asset_materializations_for_node("bronze__kafka_drain")
    (own,) = [m.metadata for m in drain if m.asset_key == DRAIN_KEY]
    assert own["dead_letters"].value == 0 and own["kafka_lag_after"].value == 0
    assert own["days_changed"].value == "2026-03-14"
    # the drain reports the day it changed as a materialization of that day, with the day's checks ...
    reported = [m for m in drain if m.asset_key == BRONZE_KEY]
    assert [(m.partition, m.metadata["rows_added"].value) for m in reported] == [("2026-03-14", 3)]
    # ... and materializing the day itself repairs and re-checks it
    bronze = result.asset_materializations_for_node("bronze__weather_raw")[0].metadata
    assert bronze["dagster/row_count"].value == 3
    checks = [(c.check_name, c.partition, c.passed) for c in result.get_asset_check_evaluations()]
    assert sorted(checks) == sorted(2 * [("required_columns", "2026-03-14", True),
                                         ("unique_kafka_coordinates", "2026-03-14", True)])  # fmt: skip

    table = bronze_store.read_day(pipeline.s3, pipeline.settings.bronze_bucket, date(2026, 3, 14))
    assert table is not None
    assert sorted(table["city"].to_pylist()) == ["London", "Paris", "Tokyo"]
    assert all(ts.startswith("2026-03-14T") for ts in table["timestamp"].to_pylist())


def test_late_records_are_reported_as_materializations_of_their_own_day(pipeline: Pipeline) -> None:
    assert _materialize(pipeline, [weather_events, kafka_drain, weather_raw], "2026-03-14").success
    pipeline.set_time(datetime(2026, 3, 13, 23, 30, tzinfo=UTC))  # a late reading from yesterday evening
    assert dg.materialize([weather_events], resources=pipeline.resources, instance=pipeline.instance).success
    pipeline.set_time(datetime(2026, 3, 14, 13, 0, tzinfo=UTC))
    result = dg.materialize([kafka_drain], resources=pipeline.resources, instance=pipeline.instance)
    assert result.success

    late = pipeline.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=BRONZE_KEY, asset_partitions=["2026-03-13"]), limit=10
    ).records
    assert len(late) == 1
    assert late[0].asset_materialization is not None
    assert late[0].asset_materialization.metadata["rows_added"].value == 3
    # only the day that received records: today's bronze did not change
    today = pipeline.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=BRONZE_KEY, asset_partitions=["2026-03-14"]), limit=10
    ).records
    assert len(today) == 2  # the first run's drain report and its materialization of the day
    assert _rows(pipeline, date(2026, 3, 13)) == 3
    assert _rows(pipeline, date(2026, 3, 14)) == 3


@pytest.mark.parametrize(
    ("fault", "error_text"),
    [
        (Fault(status=500), "500"),
        (Fault(status=429, retry_after=0.2), "429"),
        (Fault(delay_seconds=1.5), "no answer within 0.5 s"),
        (Fault(malformed_json=True), "malformed JSON"),
        (Fault(missing_fields=("main.temp",)), "temperature"),
    ],
    ids=["server-error", "rate-limited", "timeout", "malformed-json", "missing-field"],
)
def test_a_faulty_city_gets_a_clear_error_and_the_others_arrive(
    pipeline: Pipeline, fault: Fault, error_text: str
) -> None:
    pipeline.simulator.faults.set(fault, city="Paris")
    api = pipeline.resources["weather_api"]
    pipeline.resources["weather_api"] = WeatherApiResource(
        base_url=api.base_url, cities=api.cities, timeout_seconds=0.5
    )
    result = _materialize(pipeline, [weather_events, kafka_drain, weather_raw], "2026-03-14")
    assert result.success
    ingest = result.asset_materializations_for_node("ingestion__weather_events")[0].metadata
    assert (ingest["sent"].value, ingest["failed"].value) == (2, 1)
    paris = next(line for line in str(ingest["cities"].value).splitlines() if "Paris" in line)
    assert error_text.lower() in paris.lower()
    table = bronze_store.read_day(pipeline.s3, pipeline.settings.bronze_bucket, date(2026, 3, 14))
    assert table is not None and sorted(table["city"].to_pylist()) == ["London", "Tokyo"]


def test_absurd_values_are_kept_as_data_for_silver_to_judge(pipeline: Pipeline) -> None:
    pipeline.simulator.faults.set(Fault(absurd_values=True), city="Paris")
    assert _materialize(pipeline, [weather_events, kafka_drain, weather_raw], "2026-03-14").success
    table = bronze_store.read_day(pipeline.s3, pipeline.settings.bronze_bucket, date(2026, 3, 14))
    assert table is not None
    temperatures = dict(zip(table["city"].to_pylist(), table["temperature"].to_pylist(), strict=True))
    assert temperatures["Paris"] == 999


def test_all_cities_failing_fails_the_asset_with_a_clear_error(pipeline: Pipeline) -> None:
    pipeline.simulator.faults.set(Fault(status=503))
    result = dg.materialize(
        [weather_events], resources=pipeline.resources, instance=pipeline.instance, raise_on_error=False
    )
    assert not result.success
    failure = result.failure_data_for_node("ingestion__weather_events")
    assert failure is not None and "no observation could be fetched" in str(failure.error)


def test_rerun_of_bronze_with_nothing_new_keeps_the_day_as_it_was(pipeline: Pipeline) -> None:
    assert _materialize(pipeline, [weather_events, kafka_drain, weather_raw], "2026-03-14").success
    keys = bronze_store.list_day_objects(pipeline.s3, pipeline.settings.bronze_bucket, date(2026, 3, 14))
    again = _materialize(pipeline, [kafka_drain, weather_raw], "2026-03-14")
    assert again.success
    (drained,) = [
        m.metadata for m in again.asset_materializations_for_node("bronze__kafka_drain") if m.asset_key == DRAIN_KEY
    ]
    assert drained["messages_drained"].value == 0 and drained["days_changed"].value == "none"
    meta = again.asset_materializations_for_node("bronze__weather_raw")[0].metadata
    assert meta["dagster/row_count"].value == 3
    assert bronze_store.list_day_objects(pipeline.s3, pipeline.settings.bronze_bucket, date(2026, 3, 14)) == keys
