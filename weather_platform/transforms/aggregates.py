"""Daily and hourly aggregates of cleaned silver observations (the metrics of the gold aggregate tables).

Values are not rounded, so sums and counts reconcile exactly with the cleaned rows (the gold views round them).

Precipitation is an accumulation, not a reading to be summed: `rain_1h`/`snow_1h` is the amount over the hour
before the reading's time t (OpenWeather's `rain.1h`, Open-Meteo's "preceding hour sum"), so an hour polled four
times reports (nearly) the same rain four times. An accumulation belongs to the hour in which its window (t - 1 h,
t] ends, the UTC hour containing t - 1 µs: a reading at 10:59 counts for hour 10, an hourly archive value stamped
11:00 also for hour 10, and one stamped 00:00 for the last hour of the day before (the NWS convention: a day's
total is the hours ending 01:00 … 24:00). Each hour's total is the accumulation of its reading nearest the end
(a reading without the field reports a dry hour: OpenWeather omits it), and the day's total is the sum of its
hours' totals; the daily and hourly rows of a day therefore take the readings of that day plus the next day's
readings stamped exactly midnight (`prepare(…, next_midnight=…)`). `hours_observed` and `coverage_share` say
how many of the day's 24 hours had a reading at all, so a gap shows as low coverage instead of a silently
smaller total.
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
_ACC_DATE, _ACC_HOUR = "_accumulation_date", "_accumulation_hour"
_CLOSING = "_closes_day_before"  # a next day's midnight row: precipitation for the day before, no reading of it
ACCUMULATIONS = {"total_rain_mm": _HOUR_RAIN, "total_snow_mm": _HOUR_SNOW}


def with_hourly_accumulations(cleaned: DataFrame) -> DataFrame:
    """Add `date`, the accumulation's date and hour, and on the last reading of each accumulation hour of each
    (city, country) only, its rain and snow amounts.

    Every other reading of the hour carries null there, so summing these columns over any set of whole hours
    counts each hour's accumulation exactly once. (city, country, timestamp) is unique in silver: no ties.
    """
    window_end = F.col("timestamp") - F.expr("INTERVAL 1 MICROSECOND")  # in the hour its window ends in
    with_hours = cleaned.withColumns(
        {
            "date": F.make_date("year", "month", "day"),
            _ACC_DATE: F.to_date(window_end),
            _ACC_HOUR: F.hour(window_end),
        }
    )
    last_first = Window.partitionBy("city", "country", _ACC_DATE, _ACC_HOUR).orderBy(F.col("timestamp").desc())
    is_last = F.row_number().over(last_first) == 1
    return with_hours.withColumns(
        {
            _HOUR_RAIN: F.when(is_last, F.coalesce(F.col("rain_1h"), F.lit(0.0))),
            _HOUR_SNOW: F.when(is_last, F.coalesce(F.col("snow_1h"), F.lit(0.0))),
        }
    )


def _metrics(period_hours: int) -> list[Column]:
    """One aggregate expression per METRIC_COLUMNS entry but the ACCUMULATIONS (see `_aggregate`), in that order,
    over the readings of `prepare`d rows.

    coverage_share is hours_observed over the hours of the row's period (24 for a day, 1 for an hour).

    dominant_weather is the most frequent non-null weather_main, ties going to the lowest value in Spark's string
    order (alphabetical for the capitalised OpenWeather names).
    """
    hours = F.count_distinct("hour")
    metrics = {
        "avg_temperature": F.avg("temperature"),
        "min_temperature": F.min("temperature"),
        "max_temperature": F.max("temperature"),
        "avg_humidity": F.avg("humidity"),
        "min_humidity": F.min("humidity"),
        "max_humidity": F.max("humidity"),
        "avg_pressure": F.avg("pressure"),
        "avg_wind_speed": F.avg("wind_speed"),
        "max_wind_speed": F.max("wind_speed"),
        "avg_heat_index": F.avg("heat_index"),
        "avg_quality_score": F.avg("quality_score"),
        "observation_count": F.count(F.lit(1)),
        "dominant_weather": F.mode("weather_main", deterministic=True),
        "avg_feels_like_c": F.avg("feels_like_c"),
        "hours_observed": hours.cast("int"),
        "coverage_share": hours / F.lit(float(period_hours)),
    }
    return [metrics[name].alias(name) for name in METRIC_COLUMNS if name not in ACCUMULATIONS]


def prepare(cleaned: DataFrame, next_midnight: DataFrame | None = None) -> DataFrame:
    """The aggregates' input: INPUT_COLUMNS with `date` and the hourly accumulations. Preparing once lets the daily
    and the hourly aggregates share the window's sort (the silver writer persists the prepared rows).

    `next_midnight`: the cleaned rows of the day after, of which those stamped exactly 00:00:00 close the last
    hour of the day (they add precipitation to it, never a reading).

    Each place's rows are brought into one task first (the only shuffle of whole rows: the window and every
    aggregate are within a place), so each aggregate adds a place's values in one task, in the window's order,
    and the floating-point results are identical from run to run."""
    rows = cleaned.select(*INPUT_COLUMNS, F.lit(False).alias(_CLOSING))
    if next_midnight is not None:
        at_midnight = F.col("timestamp") == F.date_trunc("day", "timestamp")
        closing = next_midnight.where(at_midnight).select(*INPUT_COLUMNS, F.lit(True).alias(_CLOSING))
        rows = rows.unionByName(closing)
    return with_hourly_accumulations(rows.repartition("city", "country"))


def _aggregate(rows: DataFrame, period_hours: int, *keys: str) -> DataFrame:
    """The readings' metrics per (city, country, date, *keys) with the precipitation of the same accumulation hours
    (or day) joined on. An hour or day has a row when it has readings of its own; the next day's midnight rows
    only add precipitation to the day before."""
    prepared = rows if _HOUR_RAIN in rows.columns else prepare(rows)
    place = ("city", "country")
    readings = prepared.where(~F.col(_CLOSING))
    metrics = readings.groupBy(*place, "date", *keys).agg(*_metrics(period_hours))
    accumulation_keys = {"date": _ACC_DATE, "hour": _ACC_HOUR}
    totals = (
        prepared.where(F.col(_HOUR_RAIN).isNotNull())
        .groupBy(*place, *(F.col(accumulation_keys[k]).alias(k) for k in ("date", *keys)))
        .agg(*(F.sum(column).alias(name) for name, column in ACCUMULATIONS.items()))
    )
    joined = metrics.join(totals, [*place, "date", *keys], "left")
    filled = joined.withColumns({name: F.coalesce(F.col(name), F.lit(0.0)) for name in ACCUMULATIONS})
    return filled.select(*place, "date", *keys, *METRIC_COLUMNS)


def daily_aggregates(cleaned: DataFrame) -> DataFrame:
    """One row per (city, country, date), the UTC date of the observations; from cleaned or `prepare`d rows."""
    return _aggregate(cleaned, HOURS_PER_DAY)


def hourly_aggregates(cleaned: DataFrame) -> DataFrame:
    """One row per (city, country, date, hour), hour being the UTC hour 0-23 (hours_observed 1, coverage 1)."""
    return _aggregate(cleaned, 1, "hour")
