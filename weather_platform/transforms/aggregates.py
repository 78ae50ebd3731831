"""Daily and hourly aggregates of cleaned silver observations (the metrics of the gold aggregate tables).

Values are not rounded, so sums and counts reconcile exactly with the cleaned rows.
"""

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

METRIC_COLUMNS: tuple[str, ...] = (
    "avg_temperature",
    "min_temperature",
    "max_temperature",
    "avg_humidity",
    "min_humidity",
    "max_humidity",
    "avg_pressure",
    "avg_wind_speed",
    "max_wind_speed",
    "total_rain_mm",
    "total_snow_mm",
    "avg_heat_index",
    "avg_quality_score",
    "observation_count",
    "dominant_weather",
)


def _metrics() -> list[Column]:
    """One aggregate expression per METRIC_COLUMNS entry, in that order.

    Precipitation totals sum rain_1h/snow_1h with null as 0 mm (OpenWeather omits the field when it is dry),
    assuming each observation stands for its own hour's reading; with several polls per hour the total counts
    that hour once per poll. dominant_weather is the most frequent non-null weather_main, ties going to the
    lowest value in Spark's string order (alphabetical for the capitalised OpenWeather names).
    """
    metrics = [
        F.avg("temperature"),
        F.min("temperature"),
        F.max("temperature"),
        F.avg("humidity"),
        F.min("humidity"),
        F.max("humidity"),
        F.avg("pressure"),
        F.avg("wind_speed"),
        F.max("wind_speed"),
        F.sum(F.coalesce(F.col("rain_1h"), F.lit(0.0))),
        F.sum(F.coalesce(F.col("snow_1h"), F.lit(0.0))),
        F.avg("heat_index"),
        F.avg("quality_score"),
        F.count(F.lit(1)),
        F.mode("weather_main", deterministic=True),
    ]
    return [metric.alias(name) for metric, name in zip(metrics, METRIC_COLUMNS, strict=True)]


def _aggregate(cleaned: DataFrame, *keys: str) -> DataFrame:
    with_date = cleaned.withColumn("date", F.make_date("year", "month", "day"))
    return with_date.groupBy("city", "country", "date", *keys).agg(*_metrics())


def daily_aggregates(cleaned: DataFrame) -> DataFrame:
    """One row per (city, country, date), the UTC date of the observations."""
    return _aggregate(cleaned)


def hourly_aggregates(cleaned: DataFrame) -> DataFrame:
    """One row per (city, country, date, hour), hour being the UTC hour 0-23."""
    return _aggregate(cleaned, "hour")
