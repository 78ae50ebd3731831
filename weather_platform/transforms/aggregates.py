"""Daily and hourly aggregates of cleaned silver observations (the metrics of the gold aggregate tables).

Values are not rounded, so sums and counts reconcile exactly with the cleaned rows (the gold views round them).

Precipitation is an accumulation, not a reading to be summed: OpenWeather's `rain.1h`/`snow.1h` is the amount
over the last hour at the time of the reading, so an hour polled four times reports (nearly) the same rain four
times. The hour's total is therefore the accumulation reported by the hour's reading nearest its end (a reading
without the field reports a dry hour: OpenWeather omits it), and the day's total is the sum of its hourly
totals. `hours_observed` and `coverage_share` say how many of the day's 24 hours had a reading at all, so a gap
shows as low coverage instead of a silently smaller total.
"""

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

HOURS_PER_DAY = 24
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
    # Added with migration 0005 (gold appends them after the load columns).
    "avg_feels_like_c",
    "hours_observed",
    "coverage_share",
)
# What the aggregates read from a cleaned row.
INPUT_COLUMNS: tuple[str, ...] = (
    *("city", "country", "timestamp", "year", "month", "day", "hour"),
    *("temperature", "humidity", "pressure", "wind_speed", "rain_1h", "snow_1h"),
    *("heat_index", "feels_like_c", "quality_score", "weather_main"),
)
_HOUR_RAIN, _HOUR_SNOW = "_hour_rain_mm", "_hour_snow_mm"


def with_hourly_accumulations(cleaned: DataFrame) -> DataFrame:
    """Add `date` and, on the last reading of each (city, country, date, hour) only, its rain and snow amounts.

    Every other reading of the hour carries null there, so summing these columns over any set of whole hours
    counts each hour's accumulation exactly once. (city, country, timestamp) is unique in silver: no ties.
    """
    with_date = cleaned.withColumn("date", F.make_date("year", "month", "day"))
    last_first = Window.partitionBy("city", "country", "date", "hour").orderBy(F.col("timestamp").desc())
    is_last = F.row_number().over(last_first) == 1
    return with_date.withColumns(
        {
            _HOUR_RAIN: F.when(is_last, F.coalesce(F.col("rain_1h"), F.lit(0.0))),
            _HOUR_SNOW: F.when(is_last, F.coalesce(F.col("snow_1h"), F.lit(0.0))),
        }
    )


def _metrics(period_hours: int) -> list[Column]:
    """One aggregate expression per METRIC_COLUMNS entry, in that order, over `with_hourly_accumulations` rows.

    coverage_share is hours_observed over the hours of the row's period (24 for a day, 1 for an hour).

    dominant_weather is the most frequent non-null weather_main, ties going to the lowest value in Spark's string
    order (alphabetical for the capitalised OpenWeather names).
    """
    hours = F.count_distinct("hour")
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
        F.coalesce(F.sum(_HOUR_RAIN), F.lit(0.0)),
        F.coalesce(F.sum(_HOUR_SNOW), F.lit(0.0)),
        F.avg("heat_index"),
        F.avg("quality_score"),
        F.count(F.lit(1)),
        F.mode("weather_main", deterministic=True),
        F.avg("feels_like_c"),
        hours.cast("int"),
        hours / F.lit(float(period_hours)),
    ]
    return [metric.alias(name) for metric, name in zip(metrics, METRIC_COLUMNS, strict=True)]


def prepare(cleaned: DataFrame) -> DataFrame:
    """The aggregates' input: INPUT_COLUMNS with `date` and the hourly accumulations. Preparing once lets the daily
    and the hourly aggregates share the window's sort (the silver writer persists the prepared rows)."""
    return with_hourly_accumulations(cleaned.select(*INPUT_COLUMNS))


def _aggregate(rows: DataFrame, period_hours: int, *keys: str) -> DataFrame:
    prepared = rows if _HOUR_RAIN in rows.columns else prepare(rows)
    return prepared.groupBy("city", "country", "date", *keys).agg(*_metrics(period_hours))


def daily_aggregates(cleaned: DataFrame) -> DataFrame:
    """One row per (city, country, date), the UTC date of the observations; from cleaned or `prepare`d rows."""
    return _aggregate(cleaned, HOURS_PER_DAY)


def hourly_aggregates(cleaned: DataFrame) -> DataFrame:
    """One row per (city, country, date, hour), hour being the UTC hour 0-23 (hours_observed 1, coverage 1)."""
    return _aggregate(cleaned, 1, "hour")
