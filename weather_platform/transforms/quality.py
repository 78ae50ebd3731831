"""Data-quality measures of silver output as plain Spark functions; the Dagster checks only judge the numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


def _place(query: str) -> tuple[str, str | None]:
    """(city, country) of an OpenWeather `q` value (`City`, `City,CC` or `City,State,CC`), case-folded."""
    parts = [part.strip().casefold() for part in query.split(",")]
    return parts[0], (parts[-1] if len(parts) > 1 else None)


def city_coverage(cleaned: DataFrame, expected_cities: list[str], expected_hours: int) -> Coverage:
    """Match the configured cities to silver's (city, country) pairs and count each one's hours (one small query)."""
    rows = cleaned.groupBy("city", "country").agg(F.count_distinct("hour").alias("hours")).collect()
    seen = {(str(r["city"]).casefold(), (r["country"] or "").casefold()): int(r["hours"]) for r in rows}
    missing, hours = [], {}
    for query in expected_cities:
        city, country = _place(query)
        found = [h for (c, k), h in seen.items() if c == city and (country is None or k == country)]
        if found:
            hours[query] = max(found)
        else:
            missing.append(query)
    return Coverage(missing, hours, expected_hours)


def validity(cleaned: DataFrame, now: datetime) -> Validity:
    """Rows outside the physical ranges or observed after `now`, counted in one pass."""
    t_low, t_high = TEMPERATURE_RANGE
    h_low, h_high = HUMIDITY_RANGE
    row = cleaned.agg(
        F.count_if(~F.col("temperature").between(t_low, t_high)).alias("t"),
        F.count_if(F.col("humidity").isNotNull() & ~F.col("humidity").between(h_low, h_high)).alias("h"),
        F.count_if(F.col("timestamp") > F.lit(now)).alias("f"),
    ).first()
    assert row is not None
    return Validity(int(row["t"]), int(row["h"]), int(row["f"]))


def duplicate_keys(cleaned: DataFrame) -> int:
    """Rows beyond the first for each (city, country, timestamp); grouping treats a null country as a value."""
    row = cleaned.groupBy(*KEY).count().where(F.col("count") > 1).agg(F.sum(F.col("count") - 1)).first()
    return int(row[0] or 0) if row is not None else 0


def hourly_daily_consistency(cleaned_rows: int, daily: DataFrame, hourly: DataFrame) -> tuple[int, int]:
    """(sum of daily counts, sum of hourly counts); both must equal the cleaned rows."""
    daily_sum = daily.agg(F.coalesce(F.sum("observation_count"), F.lit(0))).first()
    hourly_sum = hourly.agg(F.coalesce(F.sum("observation_count"), F.lit(0))).first()
    assert daily_sum is not None and hourly_sum is not None
    return int(daily_sum[0]), int(hourly_sum[0])
