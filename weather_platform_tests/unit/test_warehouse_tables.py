"""The gold table descriptions agree with the silver columns they are loaded from (docs/DESIGN.md §4.3, §4.4)."""

from datetime import date

import pytest

from weather_platform.transforms.aggregates import METRIC_COLUMNS
from weather_platform.transforms.silver import LINEAGE_TYPES, OBSERVATION_TYPES
from weather_platform.warehouse.loader import month_partition
from weather_platform.warehouse.tables import DAILY_AGGREGATES, DETAILED, GOLD_TABLES, HOURLY_AGGREGATES, GoldTable

ENRICHMENT = ("year", "month", "day", "hour", "day_of_week", "heat_index", "dew_point", "wind_chill", "quality_score")
# Added by migration 0005, so stored after the load columns.
ADDED_METRICS = ("avg_feels_like_c", "hours_observed", "coverage_share")


def test_detailed_takes_every_silver_column_but_raw_json() -> None:
    lineage = tuple(c for c in LINEAGE_TYPES if c != "raw_json")
    assert DETAILED.input_columns == (*OBSERVATION_TYPES, *lineage, *ENRICHMENT, "feels_like_c")
    assert DETAILED.ignored_inputs == {"raw_json"}
    assert DETAILED.columns[-4:] == ("date", "dagster_run_id", "loaded_at", "feels_like_c")
    assert len(DETAILED.columns) == 49


@pytest.mark.parametrize(
    ("table", "keys"),
    [(DAILY_AGGREGATES, ("city", "country", "date")), (HOURLY_AGGREGATES, ("city", "country", "date", "hour"))],
)
def test_aggregate_tables_are_their_key_plus_the_silver_metrics(table: GoldTable, keys: tuple[str, ...]) -> None:
    assert table.key == keys
    assert table.input_columns == (*keys, *METRIC_COLUMNS)
    assert table.stored_inputs == table.input_columns  # the rows carry their date
    original = tuple(c for c in METRIC_COLUMNS if c not in ADDED_METRICS)
    assert table.columns == (*keys, *original, "dagster_run_id", "loaded_at", *ADDED_METRICS)


def test_every_unique_index_leads_with_the_date_and_holds_the_key() -> None:
    assert DETAILED.index_key == ("date", "city", "country", "timestamp")
    assert DAILY_AGGREGATES.index_key == ("date", "city", "country")
    assert HOURLY_AGGREGATES.index_key == ("date", "city", "country", "hour")
    for table in GOLD_TABLES:
        assert set(table.key) <= set(table.index_key)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 7, 15), ("gold_weather_detailed_p202407", date(2024, 7, 1), date(2024, 8, 1))),
        (date(2024, 2, 29), ("gold_weather_detailed_p202402", date(2024, 2, 1), date(2024, 3, 1))),
        (date(2024, 12, 31), ("gold_weather_detailed_p202412", date(2024, 12, 1), date(2025, 1, 1))),
        (date(2025, 1, 1), ("gold_weather_detailed_p202501", date(2025, 1, 1), date(2025, 2, 1))),
    ],
)
def test_month_partition_bounds(day: date, expected: tuple[str, date, date]) -> None:
    assert month_partition(DETAILED, day) == expected
