"""The three gold tables described once: the loader, the check queries and the tests all read these.

Column names are a contract (docs/DESIGN.md §4.4); the detailed table's come from the schema contract
(`weather_platform.schema`). The migrations create the same columns with the contract's types, and an integration
test compares the two so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from weather_platform.schema import ENRICHMENT, LINEAGE, OBSERVATION, gold_names

# Filled by the loader for every row, never taken from the input.
LOAD_COLUMNS: tuple[str, ...] = ("dagster_run_id", "loaded_at")

_OBSERVATION = gold_names(OBSERVATION)
_LINEAGE = gold_names(LINEAGE)
_ENRICHMENT = tuple(name for name in gold_names(ENRICHMENT) if name != "feels_like_c")
_METRICS = (
    "avg_temperature", "min_temperature", "max_temperature", "avg_humidity", "min_humidity", "max_humidity",
    "avg_pressure", "avg_wind_speed", "max_wind_speed", "total_rain_mm", "total_snow_mm", "avg_heat_index",
    "avg_quality_score", "observation_count", "dominant_weather",
)  # fmt: skip
# Columns added by migration 0005_analyst_gold: PostgreSQL places them after the load columns.
_DETAILED_ADDED = ("feels_like_c",)
_METRICS_ADDED = ("avg_feels_like_c", "hours_observed", "coverage_share")


@dataclass(frozen=True)
class GoldTable:
    """A gold table as the loader sees it.

    `input_columns` are taken from the loaded rows, in this order; the table also has `date_column` and the
    LOAD_COLUMNS. When `date_source` is set, the date is not an input: the loader derives it as the UTC date of
    that timestamp column (the detailed rows carry no date of their own). `ignored_inputs` are silver columns
    deliberately not stored, dropped from the input without complaint. `partitioned` tables are split into
    monthly range partitions on the date, each divided by day, which the loader creates on demand. `added_inputs`
    are input columns (among `input_columns`) added by a later migration, which the table stores after the
    LOAD_COLUMNS.
    """

    name: str
    input_columns: tuple[str, ...]
    key: tuple[str, ...]
    date_column: str = "date"
    date_source: str | None = None
    ignored_inputs: frozenset[str] = frozenset()
    partitioned: bool = False
    added_inputs: tuple[str, ...] = ()

    @property
    def stored_inputs(self) -> tuple[str, ...]:
        """The columns the loader writes from the rows: the inputs plus a derived date."""
        return (*self.input_columns, self.date_column) if self.date_source else self.input_columns

    @property
    def index_key(self) -> tuple[str, ...]:
        """Columns of the unique index, in its order: the date leads, so a day is one contiguous index range."""
        return (self.date_column, *(c for c in self.key if c != self.date_column))

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column of the table, in the table's own order."""
        original = (c for c in self.stored_inputs if c not in self.added_inputs)
        return (*original, *LOAD_COLUMNS, *self.added_inputs)


# The silver weather_cleaned row minus raw_json: the typed columns hold all of it, and bronze keeps the original
# (bronze_object + kafka_partition/kafka_offset point to it) for as long as it is useful for replays.
DETAILED = GoldTable(
    name="gold_weather_detailed",
    input_columns=(*_OBSERVATION, *_LINEAGE, *_ENRICHMENT, *_DETAILED_ADDED),
    key=("city", "country", "timestamp"),
    date_source="timestamp",
    ignored_inputs=frozenset({"raw_json"}),
    partitioned=True,
    added_inputs=_DETAILED_ADDED,
)
DAILY_AGGREGATES = GoldTable(
    name="gold_weather_daily_aggregates",
    input_columns=("city", "country", "date", *_METRICS, *_METRICS_ADDED),
    key=("city", "country", "date"),
    added_inputs=_METRICS_ADDED,
)
HOURLY_AGGREGATES = GoldTable(
    name="gold_weather_hourly_aggregates",
    input_columns=("city", "country", "date", "hour", *_METRICS, *_METRICS_ADDED),
    key=("city", "country", "date", "hour"),
    added_inputs=_METRICS_ADDED,
)
GOLD_TABLES: tuple[GoldTable, ...] = (DETAILED, DAILY_AGGREGATES, HOURLY_AGGREGATES)
EXECUTION_LOG = "pipeline_execution_log"
VIEWS: tuple[str, ...] = ("v_weather_latest", "v_weather_daily_trend", "v_weather_hourly", "v_pipeline_runs")
# What the BI role `weather_reader` may read: these and nothing else.
READER_RELATIONS: tuple[str, ...] = (*(t.name for t in GOLD_TABLES), *VIEWS)


def relation(name: str, schema: str | None = None) -> sql.Identifier:
    """A relation name, qualified when a schema is given (tests use a schema each) else found via search_path."""
    return sql.Identifier(schema, name) if schema else sql.Identifier(name)


def identifiers(names: tuple[str, ...]) -> sql.Composed:
    return sql.SQL(", ").join(map(sql.Identifier, names))
