"""Silver transforms on a real local Spark: a seeded bronze day gives exactly the expected rows and counts.

Expectations are worked out by hand from the rules in docs/DESIGN.md §4.3, not read back from the code under test.
"""

from datetime import date
from typing import Any

import pytest
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, IntegerType, LongType, StringType, StructField, StructType

from weather_platform.transforms.aggregates import daily_aggregates, hourly_aggregates, prepare
from weather_platform.transforms.silver import cast_types, clean, enrich

pytestmark = pytest.mark.integration

# Bronze as received (docs/DESIGN.md §4.1 fields, then the bronze writer's): ISO timestamps, some numbers as strings
# (temperature, humidity, visibility, city_id, timezone_offset, as parsed from JSON text), the others doubles.
_DOUBLES = {
    "latitude", "longitude", "feels_like", "temp_min", "temp_max", "pressure", "sea_level", "grnd_level",
    "wind_speed", "wind_deg", "wind_gust", "clouds", "rain_1h", "snow_1h",
}  # fmt: skip
_OBSERVATION_FIELDS = [
    "schema_version", "source", "city", "country", "city_id", "latitude", "longitude", "timestamp",
    "ingested_at", "temperature", "feels_like", "temp_min", "temp_max", "pressure", "sea_level", "grnd_level",
    "humidity", "visibility", "wind_speed", "wind_deg", "wind_gust", "clouds", "rain_1h", "snow_1h",
    "weather_main", "weather_description", "weather_icon", "sunrise", "sunset", "timezone_offset",
]  # fmt: skip
BRONZE_SCHEMA = StructType(
    [StructField(name, DoubleType() if name in _DOUBLES else StringType()) for name in _OBSERVATION_FIELDS]
    + [
        StructField("kafka_topic", StringType()),
        StructField("kafka_partition", IntegerType()),
        StructField("kafka_offset", LongType()),
        StructField("kafka_timestamp", LongType()),  # epoch milliseconds, as Kafka gives it
        StructField("kafka_key", StringType()),
        StructField("raw_json", StringType()),
        StructField("bronze_object", StringType()),
    ]
)

COMPLETE: dict[str, Any] = {
    "schema_version": "1",
    "source": "simulator",
    "city": "Paris",
    "country": "FR",
    "city_id": "2988507",
    "latitude": 48.85,
    "longitude": 2.35,
    "timestamp": "2024-07-15T10:00:00Z",
    "ingested_at": "2024-07-15T10:00:30Z",
    "temperature": "25.0",
    "feels_like": 25.3,
    "temp_min": 24.0,
    "temp_max": 26.0,
    "pressure": 1012.0,
    "sea_level": 1012.0,
    "grnd_level": 1005.0,
    "humidity": "60",
    "visibility": "10000",
    "wind_speed": 3.5,
    "wind_deg": 200.0,
    "wind_gust": None,
    "clouds": 20.0,
    "rain_1h": None,
    "snow_1h": None,
    "weather_main": "Clouds",
    "weather_description": "few clouds",
    "weather_icon": "02d",
    "sunrise": "2024-07-15T03:58:00Z",
    "sunset": "2024-07-15T19:51:00Z",
    "timezone_offset": "7200",
    "kafka_topic": "weather-data",
    "kafka_partition": 0,
    "kafka_offset": 0,
    "kafka_timestamp": 1721037630000,  # 2024-07-15T10:00:30Z
    "kafka_key": "Paris,FR",
    "raw_json": "{}",
    "bronze_object": "weather/year=2024/month=07/day=15/p0-0-99.parquet",
}

# How each optional field goes missing in bronze: absent, unparseable, or blank.
GAPS: dict[str, Any] = {
    "country": None,
    "latitude": None,
    "longitude": None,
    "feels_like": None,
    "pressure": None,
    "humidity": "n/a",
    "visibility": "unknown",
    "wind_speed": None,
    "wind_deg": None,
    "clouds": None,
    "weather_main": "",
    "weather_description": "   ",
}


def bronze(spark: SparkSession, rows: list[dict[str, Any]]) -> DataFrame:
    records = [{**COMPLETE, **row} for row in rows]
    return spark.createDataFrame([tuple(r[f.name] for f in BRONZE_SCHEMA.fields) for r in records], BRONZE_SCHEMA)


def utc_text(column: str) -> Column:
    """A timestamp as UTC ISO text (the fixture's session time zone is UTC), whatever the local time zone."""
    return F.date_format(column, "yyyy-MM-dd'T'HH:mm:ss'Z'").alias(column)


SEEDED: list[dict[str, Any]] = [
    # Three copies of Paris 10:00: the latest ingested wins; on equal ingestion the higher offset wins.
    {"ingested_at": "2024-07-15T10:01:00Z", "kafka_offset": 3, "temperature": "25.0"},
    {"ingested_at": "2024-07-15T10:05:00Z", "kafka_offset": 11, "temperature": "26.0"},
    {"ingested_at": "2024-07-15T10:05:00Z", "kafka_offset": 7, "temperature": "25.5"},
    # An invalid copy of the same key counts under its rule, not as a duplicate, and never wins.
    {"ingested_at": "2024-07-15T10:09:00Z", "kafka_offset": 12, "temperature": "99"},
    # Paris 11:00 ingested at the same instant in two partitions: the higher partition wins.
    {"timestamp": "2024-07-15T11:00:00Z", "ingested_at": "2024-07-15T11:01:00Z", "kafka_partition": 0,
     "kafka_offset": 50, "temperature": "20"},
    {"timestamp": "2024-07-15T11:00:00Z", "ingested_at": "2024-07-15T11:01:00Z", "kafka_partition": 1,
     "kafka_offset": 2, "temperature": "21"},
    # Paris 12:00: a copy without ingestion time counts as the oldest.
    {"timestamp": "2024-07-15T12:00:00Z", "ingested_at": None, "kafka_offset": 90, "temperature": "30"},
    {"timestamp": "2024-07-15T12:00:00Z", "ingested_at": "2024-07-15T12:01:00Z", "kafka_offset": 5,
     "temperature": "29"},
    # Local offset in the timestamp: 08:30+09:00 is 23:30 UTC the day before (a Sunday).
    {"city": "Tokyo", "country": "JP", "timestamp": "2024-07-15T08:30:00+09:00", "temperature": "28"},
    # Range boundaries are kept; wind chill is defined at -100 °C, dew point is not at 0 % humidity.
    {"city": "Death Valley", "country": "US", "timestamp": "2024-07-15T13:00:00Z", "temperature": "60",
     "humidity": "100"},
    {"city": "Vostok", "country": "AQ", "timestamp": "2024-07-15T13:00:00Z", "temperature": "-100",
     "humidity": "0"},
    # One record per optional-field gap, and two with several gaps.
    *[{"city": f"Gap {field}", "country": "XX", "timestamp": "2024-07-15T14:00:00Z", field: value}
      for field, value in GAPS.items()],
    {"city": "Sparse", "timestamp": "2024-07-15T15:00:00Z", **GAPS},
    {"city": "Half", "timestamp": "2024-07-15T15:00:00Z",
     **{f: GAPS[f] for f in ("latitude", "longitude", "pressure", "clouds", "visibility")}},
    # missing_required
    {"city": None, "timestamp": "2024-07-15T16:00:00Z"},
    {"city": "   ", "timestamp": "2024-07-15T16:00:00Z"},
    {"city": "Lyon", "timestamp": "not-a-time"},
    {"city": "Lyon", "timestamp": "2024-07-15T16:00:00Z", "temperature": "abc"},
    {"city": "Lyon", "timestamp": "2024-07-15T17:00:00Z", "temperature": None, "humidity": "150"},
    # unstorable_text: bronze written before the contract refused them (gold's COPY and index would fail)
    {"city": "Nul\x00City", "timestamp": "2024-07-15T22:00:00Z"},
    {"city": "C" * 201, "timestamp": "2024-07-15T22:00:00Z", "humidity": "150"},
    # temperature_out_of_range (the second is also out of humidity range: counted once, under the first rule)
    {"city": "Lyon", "timestamp": "2024-07-15T18:00:00Z", "temperature": "60.01"},
    {"city": "Lyon", "timestamp": "2024-07-15T19:00:00Z", "temperature": "-100.5", "humidity": "101"},
    # humidity_out_of_range
    {"city": "Lyon", "timestamp": "2024-07-15T20:00:00Z", "humidity": "100.5"},
    {"city": "Lyon", "timestamp": "2024-07-15T21:00:00Z", "humidity": "-1"},
]  # fmt: skip

# (city, country, UTC timestamp, temperature, quality_score) of every silver row.
EXPECTED_ROWS = {
    ("Paris", "FR", "2024-07-15T10:00:00Z", 26.0, 100),
    ("Paris", "FR", "2024-07-15T11:00:00Z", 21.0, 100),
    ("Paris", "FR", "2024-07-15T12:00:00Z", 29.0, 100),
    ("Tokyo", "JP", "2024-07-14T23:30:00Z", 28.0, 100),
    ("Death Valley", "US", "2024-07-15T13:00:00Z", 60.0, 100),
    ("Vostok", "AQ", "2024-07-15T13:00:00Z", -100.0, 100),
    *[(f"Gap {f}", None if f == "country" else "XX", "2024-07-15T14:00:00Z", 25.0, 90) for f in GAPS],
    ("Sparse", None, "2024-07-15T15:00:00Z", 25.0, 0),  # 12 gaps: 100 - 120, floored at 0
    ("Half", "FR", "2024-07-15T15:00:00Z", 25.0, 50),
}
EXPECTED_DROPPED = {
    "missing_required": 5,
    "unstorable_text": 2,
    "temperature_out_of_range": 3,
    "humidity_out_of_range": 2,
    "duplicate": 4,  # two extra Paris 10:00, one Paris 11:00, one Paris 12:00
}


@pytest.fixture(scope="module")
def seeded(spark_local: SparkSession) -> DataFrame:
    return bronze(spark_local, SEEDED)


def test_clean_gives_exactly_the_expected_rows_counts_and_scores(seeded: DataFrame) -> None:
    result = clean(seeded)
    rows = result.cleaned.select("city", "country", utc_text("timestamp"), "temperature", "quality_score").collect()

    assert result.rows_in == len(SEEDED) == 36
    assert result.dropped == EXPECTED_DROPPED
    assert result.rows_out == len(EXPECTED_ROWS) == len(rows) == 20
    assert {tuple(r) for r in rows} == EXPECTED_ROWS


def test_silver_types_and_columns(seeded: DataFrame) -> None:
    cleaned = clean(seeded).cleaned
    types = dict(cleaned.dtypes)
    assert {types[c] for c in ("temperature", "humidity", "visibility", "pressure", "rain_1h")} == {"double"}
    assert {types[c] for c in ("timestamp", "ingested_at", "sunrise", "sunset", "kafka_timestamp")} == {"timestamp"}
    assert (types["city_id"], types["timezone_offset"], types["kafka_offset"]) == ("bigint", "int", "bigint")
    assert cleaned.columns[-10:] == [
        "year", "month", "day", "hour", "day_of_week",
        "heat_index", "dew_point", "wind_chill", "feels_like_c", "quality_score",
    ]  # fmt: skip
    assert {"kafka_partition", "kafka_key", "raw_json", "bronze_object"} <= set(cleaned.columns)
    assert not [c for c in cleaned.columns if c.startswith("_")]

    paris_10 = cleaned.filter("city = 'Paris' AND hour = 10")
    paris = paris_10.withColumn("kafka_timestamp", utc_text("kafka_timestamp")).collect()[0]
    assert paris["city_id"] == 2988507
    assert paris["timezone_offset"] == 7200
    assert paris["kafka_timestamp"] == "2024-07-15T10:00:30Z"  # from epoch milliseconds
    assert paris["kafka_offset"] == 11
    gaps = {r["city"]: r for r in cleaned.filter(F.col("city").startswith("Gap ")).collect()}
    assert gaps["Gap humidity"]["humidity"] is None  # unparseable optional number: missing, not dropped
    assert gaps["Gap weather_main"]["weather_main"] is None  # blank string: missing


def test_enrich_derives_utc_calendar_and_weather_fields(seeded: DataFrame) -> None:
    cleaned = clean(seeded).cleaned
    paris = cleaned.filter("city = 'Paris' AND hour = 10").collect()[0]
    tokyo, vostok = (cleaned.filter(F.col("city") == city).collect()[0] for city in ("Tokyo", "Vostok"))
    calendar = ("year", "month", "day", "hour", "day_of_week")
    assert tuple(paris[c] for c in calendar) == (2024, 7, 15, 10, 1)  # Monday
    assert tuple(tokyo[c] for c in calendar) == (2024, 7, 14, 23, 7)  # Sunday, ISO 7

    # Paris 26 °C = 78.8 °F at 60 %: below 80 °F the heat index is not defined (MetPy masks it), nor is the wind
    # chill above 10 °C, so it feels like the air.
    assert paris["heat_index"] is None
    assert paris["wind_chill"] is None
    assert paris["feels_like_c"] == 26.0
    # e_s(26 °C) = 33.5552 hPa (Ambaum 2020, MetPy's constants); e = 0.6 e_s = 20.1331 hPa;
    # v = ln(e / 6.112) = 1.192157; 243.5 v / (17.67 - v) = 17.6163 °C.
    assert paris["dew_point"] == pytest.approx(17.6163, abs=1e-4)

    # -100 °C, 3.5 m/s = 12.6 km/h: f = 12.6^0.16 = 1.4998896; (0.6215 + 0.3965 f) * -100 - 11.37 f + 13.12
    # = -125.5544 °C, which is also how it feels.
    assert vostok["wind_chill"] == pytest.approx(-125.5544, abs=1e-4)
    assert vostok["feels_like_c"] == vostok["wind_chill"]
    assert vostok["dew_point"] is None


def test_calendar_fields_are_utc_whatever_the_session_time_zone(spark_local: SparkSession) -> None:
    typed = cast_types(bronze(spark_local, [{"timestamp": "2024-07-15T23:30:00Z"}]))
    spark_local.conf.set("spark.sql.session.timeZone", "Asia/Tokyo")
    try:
        row = enrich(typed).select("year", "month", "day", "hour", "day_of_week").collect()[0]
    finally:
        spark_local.conf.set("spark.sql.session.timeZone", "UTC")
    assert tuple(row) == (2024, 7, 15, 23, 1)


def test_clean_takes_the_calendar_from_the_timestamp_not_from_calendar_columns_of_its_input(
    spark_local: SparkSession,
) -> None:
    """Bronze read with partition discovery (or any frame) may carry year/month/day columns of its own: a cleaned
    row's calendar is still its observation's UTC day."""
    stray = bronze(spark_local, [{"timestamp": "2024-07-15T23:30:00Z"}]).withColumns(
        {"year": F.lit("2020"), "month": F.lit("01"), "day": F.lit("02")}
    )
    row = clean(stray).cleaned.select("year", "month", "day").collect()[0]
    assert tuple(row) == (2024, 7, 15)


def test_clean_is_reproducible_whatever_the_input_order(spark_local: SparkSession, seeded: DataFrame) -> None:
    reordered = bronze(spark_local, list(reversed(SEEDED))).repartition(3)

    def rows(df: DataFrame) -> list[tuple[Any, ...]]:
        return sorted(
            (tuple(r) for r in clean(df).cleaned.collect()),
            key=lambda r: tuple(str(v) for v in r),
        )

    assert rows(seeded) == rows(reordered)


def test_clean_without_duplicates_keeps_every_valid_row(spark_local: SparkSession) -> None:
    hours = [{"timestamp": f"2024-07-15T{h:02d}:00:00Z", "kafka_offset": h} for h in range(5)]
    result = clean(bronze(spark_local, [*hours, {"temperature": None}]))
    assert (result.rows_in, result.rows_out) == (6, 5)
    assert result.dropped == {**dict.fromkeys(EXPECTED_DROPPED, 0), "missing_required": 1}
    assert sorted(r["hour"] for r in result.cleaned.collect()) == [0, 1, 2, 3, 4]


def oslo(
    when: str,
    temperature: str,
    humidity: str | None,
    pressure: float,
    wind: float,
    weather: str,
    **extra: Any,
) -> dict[str, Any]:
    place = {"city": "Oslo", "country": "NO", "timestamp": f"2024-07-15T{when}:00Z"}
    measured = {"temperature": temperature, "humidity": humidity, "pressure": pressure, "wind_speed": wind}
    return {**place, **measured, "weather_main": weather, **extra}


AGG_ROWS: list[dict[str, Any]] = [
    oslo("09:05", "10", "80", 1000.0, 2.0, "Rain", rain_1h=1.5),
    oslo("09:20", "11", "90", 1001.0, 3.0, "Drizzle", rain_1h=0.5),
    oslo("10:05", "-1", "85", 1010.0, 5.0, "Snow", snow_1h=2.0),
    oslo("10:20", "-2", None, 1012.0, 7.0, "Snow", snow_1h=1.0),
    oslo("10:40", "0", "75", 1014.0, 1.0, "Snow", snow_1h=1.2),
    # A re-delivered copy, ingested earlier (dropped by silver), and a city without any weather_main.
    oslo("10:40", "0", "75", 1014.0, 1.0, "Snow", snow_1h=1.2, ingested_at="2024-07-15T09:00:00Z"),
    {"city": "Bergen", "country": "NO", "timestamp": "2024-07-15T12:00:00Z", "temperature": "15",
     "weather_main": None},
]  # fmt: skip
METRICS = [
    "avg_temperature", "min_temperature", "max_temperature", "avg_humidity", "min_humidity", "max_humidity",
    "avg_pressure", "avg_wind_speed", "max_wind_speed", "total_rain_mm", "total_snow_mm", "avg_heat_index",
    "avg_quality_score", "observation_count", "dominant_weather", "avg_feels_like_c", "hours_observed",
    "coverage_share",
]  # fmt: skip
# Wind chill (MetPy, metric): (0.6215 + 0.3965 f) T - 11.37 f + 13.12 with f = (3.6 v)^0.16:
# 10 °C at 2 m/s -> 9.17957, -1 °C at 5 m/s -> -6.18641, -2 °C at 7 m/s -> -8.50584; 11 °C is above 10 °C and
# 0 °C at 1 m/s has too little wind (<= 1.34 m/s): those feel like the air.
OSLO_FEELS_LIKE = (9.179571278829187, 11.0, -6.186405252170635, -8.505844593618983, 0.0)


@pytest.fixture(scope="module")
def cleaned_for_aggregates(spark_local: SparkSession) -> DataFrame:
    return clean(bronze(spark_local, AGG_ROWS)).cleaned.cache()


def test_daily_aggregates(cleaned_for_aggregates: DataFrame) -> None:
    daily = daily_aggregates(cleaned_for_aggregates)
    assert daily.columns == ["city", "country", "date", *METRICS]
    rows = {r["city"]: r.asDict() for r in daily.collect()}
    assert set(rows) == {"Oslo", "Bergen"}

    oslo = rows["Oslo"]
    assert oslo["date"] == date(2024, 7, 15)
    assert oslo["observation_count"] == 5
    assert oslo["avg_temperature"] == pytest.approx((10 + 11 - 1 - 2 + 0) / 5, abs=1e-12)
    assert (oslo["min_temperature"], oslo["max_temperature"]) == (-2.0, 11.0)
    assert oslo["avg_humidity"] == pytest.approx((80 + 90 + 85 + 75) / 4, abs=1e-12)  # null humidity ignored
    assert (oslo["min_humidity"], oslo["max_humidity"]) == (75.0, 90.0)
    assert oslo["avg_pressure"] == pytest.approx(5037 / 5, abs=1e-9)
    assert oslo["avg_wind_speed"] == pytest.approx(18 / 5, abs=1e-12)
    assert oslo["max_wind_speed"] == 7.0
    # Each hour's accumulation once, from its reading nearest the end of the hour: 09:20 reports 0.5 mm of rain
    # over the last hour (09:05's 1.5 mm overlaps it), 10:40 reports 1.2 mm of snow; summing every reading
    # would count 2.0 mm of rain and 4.2 mm of snow.
    assert oslo["total_rain_mm"] == pytest.approx(0.5, abs=1e-12)
    assert oslo["total_snow_mm"] == pytest.approx(1.2, abs=1e-12)
    assert (oslo["hours_observed"], oslo["coverage_share"]) == (2, 2 / 24)
    assert oslo["avg_heat_index"] is None  # never 80 °F: the heat index is defined in none of the readings
    assert oslo["avg_feels_like_c"] == pytest.approx(sum(OSLO_FEELS_LIKE) / 5, abs=1e-9)
    assert oslo["avg_quality_score"] == pytest.approx((100 * 4 + 90) / 5, abs=1e-12)
    assert oslo["dominant_weather"] == "Snow"  # 3 of 5, ahead of Drizzle and Rain

    bergen = rows["Bergen"]
    assert bergen["observation_count"] == 1
    assert bergen["dominant_weather"] is None
    assert (bergen["total_rain_mm"], bergen["total_snow_mm"]) == (0.0, 0.0)  # no precipitation reported
    assert (bergen["hours_observed"], bergen["coverage_share"]) == (1, 1 / 24)


def test_hourly_aggregates(cleaned_for_aggregates: DataFrame) -> None:
    hourly = hourly_aggregates(cleaned_for_aggregates)
    assert hourly.columns == ["city", "country", "date", "hour", *METRICS]
    rows = {(r["city"], r["hour"]): r.asDict() for r in hourly.collect()}
    assert set(rows) == {("Oslo", 9), ("Oslo", 10), ("Bergen", 12)}

    nine, ten = rows[("Oslo", 9)], rows[("Oslo", 10)]
    assert (nine["observation_count"], ten["observation_count"]) == (2, 3)
    assert nine["dominant_weather"] == "Drizzle"  # tied 1-1 with Rain: alphabetical first
    assert ten["dominant_weather"] == "Snow"
    assert (nine["total_rain_mm"], nine["total_snow_mm"]) == (0.5, 0.0)
    assert (ten["total_rain_mm"], ten["total_snow_mm"]) == (0.0, 1.2)
    assert (nine["hours_observed"], nine["coverage_share"]) == (1, 1.0)
    assert nine["avg_temperature"] == pytest.approx(10.5, abs=1e-12)
    assert ten["avg_temperature"] == pytest.approx(-1.0, abs=1e-12)
    assert (ten["avg_humidity"], ten["min_humidity"], ten["max_humidity"]) == (80.0, 75.0, 85.0)
    assert ten["avg_quality_score"] == pytest.approx(290 / 3, abs=1e-12)


def test_hourly_and_daily_counts_reconcile_with_cleaned_rows(cleaned_for_aggregates: DataFrame) -> None:
    cleaned_rows = cleaned_for_aggregates.count()
    daily = daily_aggregates(cleaned_for_aggregates).agg(F.sum("observation_count")).collect()[0][0]
    hourly = hourly_aggregates(cleaned_for_aggregates).agg(F.sum("observation_count")).collect()[0][0]
    assert hourly == daily == cleaned_rows == 6  # 7 bronze rows, one duplicate


def lima(stamp: str, rain: float) -> dict[str, Any]:
    """An hourly archive value (Open-Meteo): rain over the hour before `stamp`, a reading on the hour."""
    return {"city": "Lima", "country": "PE", "timestamp": f"{stamp}:00Z", "temperature": "18", "rain_1h": rain}


def test_accumulations_on_the_hour_belong_to_the_hour_they_close(spark_local: SparkSession) -> None:
    # 00:00 closes the 14th's last hour, 01:00 closes hour 0, 12:00 closes hour 11 (which has no reading of its
    # own), 13:00 closes hour 12; the 16th's midnight closes the 15th's hour 23, its 01:00 is the 16th's.
    day = clean(bronze(spark_local, [
        lima("2024-07-15T00:00", 1.0), lima("2024-07-15T01:00", 2.0), lima("2024-07-15T12:00", 0.5),
        lima("2024-07-15T13:00", 0.25), lima("2024-07-15T23:00", 0.125),
    ])).cleaned  # fmt: skip
    next_day = clean(bronze(spark_local, [lima("2024-07-16T00:00", 4.0), lima("2024-07-16T01:00", 8.0)])).cleaned
    prepared = prepare(day, next_midnight=next_day)

    (daily,) = daily_aggregates(prepared).collect()
    assert daily["date"] == date(2024, 7, 15)
    assert daily["total_rain_mm"] == 2.0 + 0.5 + 0.25 + 0.125 + 4.0
    assert (daily["observation_count"], daily["hours_observed"]) == (5, 5)  # the 16th's readings are not the 15th's

    hourly = {r["hour"]: r["total_rain_mm"] for r in hourly_aggregates(prepared).collect()}
    assert hourly == {0: 2.0, 1: 0.0, 12: 0.25, 13: 0.0, 23: 4.0 + 0.0}  # 23:00's 0.125 closes hour 22: no row

    (alone,) = daily_aggregates(day).collect()  # the next day not cleaned yet: its midnight hour is missing
    assert alone["total_rain_mm"] == 2.0 + 0.5 + 0.25 + 0.125
