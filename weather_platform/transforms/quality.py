"""Data-quality measures of silver output as plain Spark functions; the Dagster checks only judge the numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

TEMPERATURE_RANGE = (-100.0, 60.0)
HUMIDITY_RANGE = (0.0, 100.0)
KEY = ("city", "country", "timestamp")


@dataclass(frozen=True)
class Validity:
    temperature_out_of_range: int
    humidity_out_of_range: int
    timestamp_in_future: int

    @property
    def violations(self) -> int:
        return self.temperature_out_of_range + self.humidity_out_of_range + self.timestamp_in_future


def completeness(rows_in: int, missing_required: int) -> float | None:
    """Share of bronze rows that carry every required field; None for a day without rows (nothing to judge, and
    no data is itself a failure, never a pass)."""
    return None if rows_in == 0 else (rows_in - missing_required) / rows_in


@dataclass(frozen=True)
class Coverage:
    """Which of the configured cities silver has for a day, and for how many of the hours expected so far."""

    missing: list[str]
    hours_observed: dict[str, int]  # per configured city found, distinct UTC hours with a reading
    expected_hours: int

    @property
    def share(self) -> float:
        """Observed city-hours over expected city-hours (0 when nothing was expected)."""
        expected = (len(self.missing) + len(self.hours_observed)) * self.expected_hours
        observed = sum(min(hours, self.expected_hours) for hours in self.hours_observed.values())
        return observed / expected if expected else 0.0


_DAY = "_day"


def _place(query: str) -> tuple[str, str | None]:
    """(city, country) of a WEATHER_CITIES entry (`City`, `City,CC` or `City,State,CC`, maybe `@lat,lon`),
    case-folded."""
    parts = [part.strip().casefold() for part in query.partition("@")[0].split(",")]
    return parts[0], (parts[-1] if len(parts) > 1 else None)


@dataclass(frozen=True)
class DayMeasures:
    """What the silver checks of one day judge, measured on the day's cleaned rows in one Spark job."""

    coverage: Coverage
    validity: Validity
    duplicate_rows: int  # rows beyond the first for each (city, country, timestamp)


def measure_days(
    cleaned: DataFrame | None, expected_cities: list[str], expected_hours: dict[date, int], now: datetime
) -> dict[date, DayMeasures]:
    """Each day's coverage of the configured cities, rows outside the physical ranges or after `now`, and duplicate
    keys, for the days of `expected_hours` (a day without rows: every city missing).

    One aggregation by (day, city, country) (a few rows per city and day come back): timestamps are never null in
    silver, so the rows beyond the distinct timestamps of a place are exactly its duplicate keys; grouping treats a
    null country as a value, as the unique key does.
    """
    t_low, t_high = TEMPERATURE_RANGE
    h_low, h_high = HUMIDITY_RANGE
    rows: list[Any] = []
    if cleaned is not None:
        cleaned = cleaned.withColumn(_DAY, F.make_date("year", "month", "day"))
        rows = (
            cleaned.groupBy(_DAY, "city", "country")
            .agg(
                F.count_distinct("hour").alias("hours"),
                F.count(F.lit(1)).alias("rows"),
                F.count_distinct("timestamp").alias("keys"),
                F.count_if(~F.col("temperature").between(t_low, t_high)).alias("t"),
                F.count_if(F.col("humidity").isNotNull() & ~F.col("humidity").between(h_low, h_high)).alias("h"),
                F.count_if(F.col("timestamp") > F.lit(now)).alias("f"),
            )
            .collect()
        )
    return {
        day: _day_measures([r for r in rows if r[_DAY] == day], expected_cities, hours)
        for day, hours in expected_hours.items()
    }


def _day_measures(rows: list[Any], expected_cities: list[str], expected_hours: int) -> DayMeasures:
    seen = {(str(r["city"]).casefold(), (r["country"] or "").casefold()): int(r["hours"]) for r in rows}
    missing, hours = [], {}
    for query in expected_cities:
        city, country = _place(query)
        found = [h for (c, k), h in seen.items() if c == city and (country is None or k == country)]
        if found:
            hours[query] = max(found)
        else:
            missing.append(query)
    return DayMeasures(
        coverage=Coverage(missing, hours, expected_hours),
        validity=Validity(*(sum(int(r[name]) for r in rows) for name in ("t", "h", "f"))),
        duplicate_rows=sum(int(r["rows"]) - int(r["keys"]) for r in rows),
    )
