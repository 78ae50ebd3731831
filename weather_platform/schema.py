"""The observation schema, once: each column's type in every layer (docs/DESIGN.md §4).

Bronze's Arrow schema (`streaming.bronze_writer.BRONZE_SCHEMA`), silver's Spark types (`transforms.silver`) and
gold's column lists (`warehouse.tables`) are derived from these tuples. Tests hold the `Observation` dataclass
(the Python contract) and the SQL migrations (the warehouse as it is) to them, so no layer can drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class ColumnSpec:
    """A column's type per layer; None where the layer does not hold it."""

    name: str
    bronze: pa.DataType | None  # Arrow, as the bronze writer stores it
    silver: str | None  # Spark SQL type
    gold: str | None  # PostgreSQL type, as `format_type` prints it


def _spec(name: str, bronze: pa.DataType | None, silver: str | None, gold: str | None) -> ColumnSpec:
    return ColumnSpec(name, bronze, silver, gold)


_TEXT = (pa.string(), "string", "text")
_INT = (pa.int64(), "bigint", "bigint")
_REAL = (pa.float64(), "double", "double precision")
# A whole number at the source (hPa, %, m, degrees) that silver and gold keep as a measurement.
_MEASURED_INT = (pa.int64(), "double", "double precision")
_TIME = (pa.string(), "timestamp", "timestamp with time zone")  # ISO-8601 UTC text in bronze, instants after

# The observation contract's fields, in contract order (docs/DESIGN.md §4.1).
OBSERVATION: tuple[ColumnSpec, ...] = (
    _spec("schema_version", *_INT),
    _spec("source", *_TEXT),
    _spec("city", *_TEXT),
    _spec("country", *_TEXT),
    _spec("city_id", *_INT),
    _spec("latitude", *_REAL),
    _spec("longitude", *_REAL),
    _spec("timestamp", *_TIME),
    _spec("ingested_at", *_TIME),
    _spec("temperature", *_REAL),
    _spec("feels_like", *_REAL),
    _spec("temp_min", *_REAL),
    _spec("temp_max", *_REAL),
    _spec("pressure", *_MEASURED_INT),
    _spec("sea_level", *_MEASURED_INT),
    _spec("grnd_level", *_MEASURED_INT),
    _spec("humidity", *_MEASURED_INT),
    _spec("visibility", *_MEASURED_INT),
    _spec("wind_speed", *_REAL),
    _spec("wind_deg", *_MEASURED_INT),
    _spec("wind_gust", *_REAL),
    _spec("clouds", *_MEASURED_INT),
    _spec("rain_1h", *_REAL),
    _spec("snow_1h", *_REAL),
    _spec("weather_main", *_TEXT),
    _spec("weather_description", *_TEXT),
    _spec("weather_icon", *_TEXT),
    _spec("sunrise", *_TIME),
    _spec("sunset", *_TIME),
    _spec("timezone_offset", pa.int64(), "int", "integer"),
)
# Added by the bronze writer from the Kafka record. Gold keeps all but raw_json (bronze keeps the original, and
# bronze_object + kafka_partition/kafka_offset lead back to it).
LINEAGE: tuple[ColumnSpec, ...] = (
    _spec("kafka_topic", *_TEXT),
    _spec("kafka_partition", pa.int32(), "int", "integer"),
    _spec("kafka_offset", *_INT),
    _spec("kafka_timestamp", pa.timestamp("ms", tz="UTC"), "timestamp", "timestamp with time zone"),
    _spec("kafka_key", *_TEXT),
    _spec("raw_json", pa.string(), "string", None),
    _spec("bronze_object", *_TEXT),
)
# Derived by silver (calendar fields in UTC, MetPy's quantities, the quality score).
ENRICHMENT: tuple[ColumnSpec, ...] = (
    *(_spec(name, None, "int", "integer") for name in ("year", "month", "day", "hour", "day_of_week")),
    *(_spec(name, None, "double", "double precision") for name in ("heat_index", "dew_point", "wind_chill")),
    _spec("quality_score", None, "int", "integer"),
    _spec("feels_like_c", None, "double", "double precision"),
)

BRONZE_SCHEMA = pa.schema([pa.field(c.name, c.bronze) for c in (*OBSERVATION, *LINEAGE) if c.bronze is not None])


def silver_types(columns: tuple[ColumnSpec, ...]) -> dict[str, str]:
    """Name → Spark SQL type of the columns silver holds, in order."""
    return {c.name: c.silver for c in columns if c.silver is not None}


def gold_names(columns: tuple[ColumnSpec, ...]) -> tuple[str, ...]:
    """The names of the columns gold holds, in order."""
    return tuple(c.name for c in columns if c.gold is not None)
