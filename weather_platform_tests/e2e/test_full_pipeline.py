"""The whole pipeline through Dagster: simulator → Kafka → bronze → silver → gold for two days, checked end to end."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg
import pytest

from weather_platform.assets.bronze import BRONZE_KEY, weather_raw
from weather_platform.assets.gold import GOLD_ASSETS
from weather_platform.assets.ingestion import weather_events
from weather_platform.assets.silver import CLEANED, DAILY_AGG, HOURLY_AGG, silver
from weather_platform.definitions import defs
from weather_platform.sources.observation import Observation
from weather_platform.sources.simulator import current_weather, find_city
from weather_platform.streaming.producer import build_producer, send_observations
from weather_platform_tests.e2e.conftest import Pipeline

pytestmark = pytest.mark.e2e
ALL_ASSETS = [weather_events, weather_raw, silver, *GOLD_ASSETS]
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
        assert len(evaluations) == 2 + 5 + 3 * 2
        assert all(e.passed for e in evaluations), [(e.asset_key, e.check_name) for e in evaluations if not e.passed]

    # lineage of the platform's own Definitions reads exactly as the data flows
    graph = defs.resolve_asset_graph()
    parents = {key: graph.get(key).parent_keys for key in graph.get_all_asset_keys()}
    assert parents[BRONZE_KEY] == {INGESTION}
    assert parents[CLEANED] == {BRONZE_KEY}
    assert parents[DAILY_AGG] == parents[HOURLY_AGG] == {CLEANED}
    assert parents[GOLD["weather_detailed"]] == {CLEANED}
    assert parents[GOLD["weather_daily_aggregates"]] == {DAILY_AGG}
    assert parents[GOLD["weather_hourly_aggregates"]] == {HOURLY_AGG}

    for key in (BRONZE_KEY, CLEANED, DAILY_AGG, HOURLY_AGG, *GOLD.values()):
        assert pipeline.instance.get_materialized_partitions(key) == {d.isoformat() for d in DAYS}, key

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
    again = dg.materialize(ALL_ASSETS[2:], partition_key="2026-03-14", resources=pipeline.resources,
                           instance=pipeline.instance)  # fmt: skip
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
