"""The whole pipeline through Dagster: simulator → Kafka → bronze → silver → gold for two days, checked end to end."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg
import pytest

from weather_platform.assets.bronze import BRONZE_KEY, DRAIN_KEY, kafka_drain, weather_raw
from weather_platform.assets.gold import GOLD_ASSETS
from weather_platform.assets.ingestion import weather_events
from weather_platform.assets.silver import CLEANED, DAILY_AGG, HOURLY_AGG, silver
from weather_platform.definitions import defs
from weather_platform.sources.observation import Observation
from weather_platform.sources.simulator import current_weather, find_city
from weather_platform.streaming.producer import build_producer, send_observations
from weather_platform_tests.e2e.conftest import Pipeline

pytestmark = pytest.mark.e2e
ALL_ASSETS = [weather_events, kafka_drain, weather_raw, silver, *GOLD_ASSETS]
INGESTION = dg.AssetKey(["ingestion", "weather_events"])
GOLD = {
    name: dg.AssetKey(["gold", name])
    for name in ("weather_detailed", "weather_daily_aggregates", "weather_hourly_aggregates")
}
HOURS = (3, 9, 15, 21)
DAYS = (date(2026, 3, 13), date(2026, 3, 14))


def _served(p: Pipeline) -> dict[tuple[str, str], float]:
    """What the simulator answers for every city and round of the test: the expected gold temperatures."""
    expected = {}
    for day in DAYS:
        for hour in HOURS:
            moment = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
            for query in p.settings.cities:
                city = find_city(query)
                assert city is not None
                payload = current_weather(city, moment)
                stamp = datetime.fromtimestamp(payload["dt"], UTC).strftime("%Y-%m-%dT%H:%M:%S")
                expected[(payload["name"], stamp)] = payload["main"]["temp"]
    return expected


def test_two_days_through_every_layer(pipeline: Pipeline) -> None:
    for day in DAYS:
        for hour in HOURS:
            pipeline.set_time(datetime(day.year, day.month, day.day, hour, tzinfo=UTC))
            assert dg.materialize([weather_events], resources=pipeline.resources, instance=pipeline.instance).success
        result = dg.materialize(
            ALL_ASSETS[1:], partition_key=day.isoformat(), resources=pipeline.resources, instance=pipeline.instance
        )
        assert result.success
        evaluations = result.get_asset_check_evaluations()
        assert len(evaluations) == 2 + 2 + 5 + 3 * 2  # bronze's by the drain and by the day, silver's, gold's
        assert all(e.passed for e in evaluations), [(e.asset_key, e.check_name) for e in evaluations if not e.passed]
        assert {e.partition for e in evaluations} == {day.isoformat()}

    # lineage of the platform's own Definitions reads exactly as the data flows
    graph = defs.resolve_asset_graph()
    parents = {key: graph.get(key).parent_keys for key in graph.get_all_asset_keys()}
    assert parents[DRAIN_KEY] == {INGESTION}
    assert parents[BRONZE_KEY] == {DRAIN_KEY}
    assert parents[CLEANED] == {BRONZE_KEY}
    assert parents[DAILY_AGG] == parents[HOURLY_AGG] == {CLEANED}
    assert parents[GOLD["weather_detailed"]] == {CLEANED}
    assert parents[GOLD["weather_daily_aggregates"]] == {DAILY_AGG}
    assert parents[GOLD["weather_hourly_aggregates"]] == {HOURLY_AGG}

    for key in (BRONZE_KEY, CLEANED, DAILY_AGG, HOURLY_AGG, *GOLD.values()):
        assert pipeline.instance.get_materialized_partitions(key) == {d.isoformat() for d in DAYS}, key

    # the UI shows each gold table's columns with the warehouse's type and unit
    newest = pipeline.instance.fetch_materializations(GOLD["weather_daily_aggregates"], limit=1).records[0]
    assert newest.asset_materialization is not None
    columns = {c.name: c for c in newest.asset_materialization.metadata["dagster/column_schema"].value.columns}
    assert columns["total_rain_mm"].type == "double precision"
    assert columns["total_rain_mm"].description is not None and columns["total_rain_mm"].description.endswith("[mm]")
    assert all(c.description for c in columns.values()), [n for n, c in columns.items() if not c.description]

    # gold holds exactly what the simulator served, once each
    expected = _served(pipeline)
    postgres = pipeline.resources["postgres"]
    with postgres.connect() as conn:
        rows = conn.execute(
            "SELECT city, to_char(timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS'), temperature "
            "FROM gold_weather_detailed"
        ).fetchall()
        daily = conn.execute(
            "SELECT city, date, observation_count FROM gold_weather_daily_aggregates ORDER BY 1, 2"
        ).fetchall()
        hourly = conn.execute("SELECT count(*), sum(observation_count) FROM gold_weather_hourly_aggregates").fetchone()
        log = conn.execute(
            "SELECT asset_key, count(*) FILTER (WHERE status = 'success') FROM pipeline_execution_log GROUP BY 1"
        ).fetchall()
    assert {(city, stamp): temp for city, stamp, temp in rows} == pytest.approx(expected)
    assert len(rows) == len(expected) == 2 * len(HOURS) * 3
    assert daily == [(city, d, len(HOURS)) for city in ("London", "Paris", "Tokyo") for d in DAYS]
    assert hourly == (2 * len(HOURS) * 3, 2 * len(HOURS) * 3)
    assert dict(log) == {key.to_user_string(): 2 for key in GOLD.values()}


def test_a_rerun_of_a_day_replaces_its_gold_rows_and_leaves_other_days(pipeline: Pipeline) -> None:
    for day in DAYS:
        pipeline.set_time(datetime(day.year, day.month, day.day, 12, tzinfo=UTC))
        assert dg.materialize(ALL_ASSETS, partition_key=day.isoformat(), resources=pipeline.resources,
                              instance=pipeline.instance).success  # fmt: skip
    postgres = pipeline.resources["postgres"]

    def snapshot() -> list[tuple[object, ...]]:
        with postgres.connect() as conn:
            return conn.execute(
                "SELECT city, timestamp, temperature, kafka_offset, date FROM gold_weather_detailed ORDER BY 1, 2"
            ).fetchall()

    before = snapshot()
    again = dg.materialize(ALL_ASSETS[2:], selection=ALL_ASSETS[3:], partition_key="2026-03-14",
                           resources=pipeline.resources, instance=pipeline.instance)  # fmt: skip
    assert again.success
    assert snapshot() == before and len(before) == 6
    meta = again.asset_materializations_for_node("gold__weather_detailed")[0].metadata
    assert (meta["rows_loaded"].value, meta["rows_replaced"].value) == (3, 3)


def test_a_hostile_city_name_travels_through_every_layer_as_data(pipeline: Pipeline) -> None:
    hostile = "Robert'); DROP TABLE gold_weather_detailed;--"
    producer = build_producer(pipeline.settings.kafka_bootstrap_servers)
    observation = Observation(
        city=hostile, country="XX", timestamp="2026-03-14T10:00:00Z", temperature=12.5, humidity=60
    )
    assert all(d.ok for d in send_observations(producer, pipeline.settings.kafka_topic, [observation]))
    producer.close()

    result = dg.materialize(ALL_ASSETS[1:], partition_key="2026-03-14", resources=pipeline.resources,
                            instance=pipeline.instance)  # fmt: skip
    assert result.success
    with pipeline.resources["postgres"].connect() as conn:
        detailed = conn.execute("SELECT city, temperature FROM gold_weather_detailed").fetchall()
        daily = conn.execute("SELECT city, observation_count FROM gold_weather_daily_aggregates").fetchall()
    assert detailed == [(hostile, 12.5)]
    assert daily == [(hostile, 1)]


RANGE = {"dagster/asset_partition_range_start": "2026-03-12", "dagster/asset_partition_range_end": "2026-03-14"}


def test_a_backfill_range_is_one_run_with_check_results_for_each_day(pipeline: Pipeline) -> None:
    for day in (12, 13, 14):
        for hour in (6, 18):
            pipeline.set_time(datetime(2026, 3, day, hour, tzinfo=UTC))
            assert dg.materialize([weather_events], resources=pipeline.resources, instance=pipeline.instance).success
    assert dg.materialize([kafka_drain], resources=pipeline.resources, instance=pipeline.instance).success

    result = dg.materialize(ALL_ASSETS[2:], tags=RANGE, resources=pipeline.resources, instance=pipeline.instance)
    assert result.success
    days = {"2026-03-12", "2026-03-13", "2026-03-14"}
    for key in (BRONZE_KEY, CLEANED, DAILY_AGG, HOURLY_AGG, *GOLD.values()):
        assert pipeline.instance.get_materialized_partitions(key) == days, key
    by_check: dict[tuple[str, str], set[str]] = {}
    for evaluation in result.get_asset_check_evaluations():
        assert evaluation.passed, evaluation
        assert evaluation.partition is not None
        by_check.setdefault((evaluation.asset_key.to_user_string(), evaluation.check_name), set()).add(
            evaluation.partition
        )
    assert len(by_check) == 2 + 5 + 3 * 2 and all(partitions == days for partitions in by_check.values()), by_check
    with pipeline.resources["postgres"].connect() as conn:
        per_day = conn.execute("SELECT date, count(*) FROM gold_weather_detailed GROUP BY 1 ORDER BY 1").fetchall()
    assert per_day == [(date(2026, 3, day), 6) for day in (12, 13, 14)]  # 3 cities x 2 rounds each day, once


def test_a_day_without_data_in_a_range_fails_its_own_checks_and_the_others_pass(pipeline: Pipeline) -> None:
    for day in (12, 14):  # nothing for the 13th
        pipeline.set_time(datetime(2026, 3, day, 9, tzinfo=UTC))
        assert dg.materialize([weather_events], resources=pipeline.resources, instance=pipeline.instance).success
    assert dg.materialize([kafka_drain], resources=pipeline.resources, instance=pipeline.instance).success

    result = dg.materialize([weather_raw, silver], selection=[silver], tags=RANGE, resources=pipeline.resources,
                            instance=pipeline.instance, raise_on_error=False)  # fmt: skip
    assert not result.success  # the 13th's blocking completeness failed: the range's downstream waits
    completeness = {
        e.partition: e.passed for e in result.get_asset_check_evaluations() if e.check_name == "completeness"
    }
    assert completeness == {"2026-03-12": True, "2026-03-13": False, "2026-03-14": True}
    coverage = {e.partition: e for e in result.get_asset_check_evaluations() if e.check_name == "coverage"}
    assert coverage["2026-03-13"].metadata["missing_cities"].value == "London,GB, Paris,FR, Tokyo,JP"
    assert coverage["2026-03-12"].metadata["missing_cities"].value == "none"


def test_the_hourly_job_delivers_the_round_it_just_polled_to_gold(pipeline: Pipeline) -> None:
    # The job's steps run in one process: silver must follow the drain of this very round, not the bronze before it.
    from weather_platform.automation.jobs import pipeline_job

    p = pipeline
    p.set_time(datetime(2026, 3, 14, 12, 5, tzinfo=UTC))
    job = dg.Definitions(assets=defs.assets, jobs=[pipeline_job], resources=p.resources).resolve_job_def(
        pipeline_job.name
    )
    result = job.execute_in_process(instance=p.instance, partition_key="2026-03-14")
    assert result.success
    with p.resources["postgres"].connect() as conn:
        rows = conn.execute("SELECT city FROM gold_weather_detailed ORDER BY city").fetchall()
    assert [city for (city,) in rows] == ["London", "Paris", "Tokyo"]
