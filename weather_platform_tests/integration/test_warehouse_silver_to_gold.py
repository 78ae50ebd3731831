"""Real silver output (Spark `clean` and the aggregates, on simulator observations) loads into gold value for value.

Guards the seam between the two layers: silver's column names and Spark's Arrow types must be exactly what the
gold loader and tables take, hostile city name included.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pyarrow as pa
import pytest
from psycopg import sql
from pyspark.sql import SparkSession

from weather_platform.settings import Settings
from weather_platform.sources.observation import OBSERVATION_FIELDS, from_openweather, kafka_key, to_json
from weather_platform.sources.simulator import CITIES, current_weather
from weather_platform.streaming.bronze_writer import BRONZE_SCHEMA
from weather_platform.transforms.aggregates import daily_aggregates, hourly_aggregates
from weather_platform.transforms.silver import clean
from weather_platform.warehouse.loader import load_day
from weather_platform.warehouse.migrations import migrate
from weather_platform.warehouse.queries import DayFigures, day_figures
from weather_platform.warehouse.tables import DAILY_AGGREGATES, DETAILED, HOURLY_AGGREGATES

pytestmark = pytest.mark.integration

DAY = date(2024, 7, 15)
INJECTION = "Robert'); DROP TABLE gold_weather_detailed;--"


def bronze_day() -> pa.Table:
    """A bronze day as the bronze writer stores it: 3 simulator cities and a hostile one, hourly, one re-delivery."""
    columns: dict[str, list[Any]] = {name: [] for name in BRONZE_SCHEMA.names}
    cities = [(c, c.name) for c in CITIES[:3]] + [(CITIES[0], INJECTION)]
    observations = []
    for city, name in cities:
        for hour in range(24):
            when = datetime(DAY.year, DAY.month, DAY.day, hour, 5, tzinfo=UTC)
            payload = {**current_weather(city, when), "name": name}
            observations.append(from_openweather(payload, source="simulator", ingested_at=when + timedelta(seconds=30)))
    observations.append(observations[5])  # Kafka delivered one record twice: silver keeps one
    for offset, observation in enumerate(observations):
        for field in OBSERVATION_FIELDS:
            columns[field].append(getattr(observation, field))
        columns["kafka_topic"].append("weather-data")
        columns["kafka_partition"].append(0)
        columns["kafka_offset"].append(offset)
        columns["kafka_timestamp"].append(datetime.fromisoformat(observation.ingested_at or ""))
        columns["kafka_key"].append(kafka_key(observation).decode())
        columns["raw_json"].append(to_json(observation).decode())
        columns["bronze_object"].append("weather/year=2024/month=07/day=15/weather-data-p0.parquet")
    return pa.Table.from_pydict(columns, schema=BRONZE_SCHEMA)


@pytest.fixture
def schema(settings: Settings, unique: str) -> Iterator[str]:
    name = f"it_{unique}"
    with psycopg.connect(**settings.postgres_connect_kwargs(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        migrate(conn, name)
        yield name
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


def test_silver_day_loads_into_gold_and_reconciles(settings: Settings, spark: SparkSession, schema: str) -> None:
    result = clean(spark.createDataFrame(bronze_day()))
    cleaned = result.cleaned.cache()
    detailed = cleaned.toArrow()
    assert set(detailed.column_names) == set(DETAILED.input_columns) | DETAILED.ignored_inputs
    assert result.rows_out == 96

    with psycopg.connect(
        **settings.postgres_connect_kwargs(), autocommit=True, options=f"-c search_path={schema}"
    ) as conn:
        loaded = {
            table: load_day(conn, table, DAY, rows, "run-1", schema).rows_loaded
            for table, rows in (
                (DETAILED, detailed),
                (DAILY_AGGREGATES, daily_aggregates(cleaned).toArrow()),
                (HOURLY_AGGREGATES, hourly_aggregates(cleaned).toArrow()),
            )
        }
        assert loaded == {DETAILED: 96, DAILY_AGGREGATES: 4, HOURLY_AGGREGATES: 96}
        assert day_figures(conn, DETAILED, [DAY], schema)[DAY] == DayFigures(rows=96, duplicate_keys=0)
        totals = conn.execute(
            "SELECT (SELECT sum(observation_count) FROM gold_weather_daily_aggregates), "
            "(SELECT sum(observation_count) FROM gold_weather_hourly_aggregates)"
        ).fetchone()
        assert totals == (96, 96)

        gold = conn.execute(
            sql.SQL("SELECT {} FROM gold_weather_detailed").format(
                sql.SQL(", ").join(map(sql.Identifier, DETAILED.input_columns))
            )
        ).fetchall()
        silver = {tuple(r[k] for k in DETAILED.key): r for r in detailed.drop_columns(["raw_json"]).to_pylist()}
        assert len(gold) == len(silver)
        for values in gold:
            row = dict(zip(DETAILED.input_columns, values, strict=True))
            assert row == silver[tuple(row[k] for k in DETAILED.key)]

        latest = conn.execute('SELECT "timestamp" FROM v_weather_latest WHERE city = %s', (INJECTION,)).fetchall()
        assert latest == [(datetime(2024, 7, 15, 23, 0, tzinfo=UTC),)]
