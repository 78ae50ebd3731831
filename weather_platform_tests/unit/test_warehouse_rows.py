"""What the loader stages: checked columns, one UTC day per load, and a CSV that PostgreSQL reads back exactly."""

import csv
import io
from datetime import UTC, date, datetime

import pyarrow as pa
import pytest

from weather_platform.warehouse.loader import LoadRejected, csv_chunks, prepare_rows, row_dates
from weather_platform.warehouse.tables import DAILY_AGGREGATES, DETAILED

DAY = date(2024, 7, 15)
UTC_US = pa.timestamp("us", tz="UTC")


def detailed(timestamps: list[datetime | None], kind: pa.DataType = UTC_US, **extra: pa.Array) -> pa.Table:
    """Detailed input rows: all-null columns except the timestamps (row checks look at nothing else)."""
    n = len(timestamps)
    columns = {c: pa.nulls(n) for c in DETAILED.input_columns}
    columns["timestamp"] = pa.array(timestamps, kind)
    return pa.table({**columns, **extra})


def test_detailed_rows_get_their_utc_date_appended_in_staging_order() -> None:
    rows = detailed([datetime(2024, 7, 15, 0, 0, tzinfo=UTC), datetime(2024, 7, 15, 23, 59, 59, tzinfo=UTC)])
    staged = prepare_rows(DETAILED, DAY, rows)
    assert staged.column_names == list(DETAILED.stored_inputs)
    assert staged["date"].to_pylist() == [DAY, DAY]


def test_silver_raw_json_is_dropped_and_column_order_does_not_matter() -> None:
    rows = detailed([datetime(2024, 7, 15, 12, tzinfo=UTC)], raw_json=pa.array(['{"city": "Paris"}']))
    shuffled = rows.select(sorted(rows.column_names))
    assert prepare_rows(DETAILED, DAY, shuffled).column_names == list(DETAILED.stored_inputs)


def test_missing_and_unexpected_columns_are_named() -> None:
    rows = detailed([datetime(2024, 7, 15, 12, tzinfo=UTC)], colour=pa.array(["red"])).drop_columns(["humidity"])
    with pytest.raises(LoadRejected, match=r"lack columns \['humidity'\] and have unexpected columns \['colour'\]"):
        prepare_rows(DETAILED, DAY, rows)


def test_a_row_of_another_day_or_without_a_date_rejects_the_load() -> None:
    rows = detailed([datetime(2024, 7, 15, 23, 59, tzinfo=UTC), datetime(2024, 7, 16, 0, 0, tzinfo=UTC), None, None])
    with pytest.raises(LoadRejected, match=r"3 of 4 rows are not dated 2024-07-15 \(first: 2024-07-16\)"):
        prepare_rows(DETAILED, DAY, rows)


def test_zoned_timestamps_count_on_their_utc_date() -> None:
    # 00:30 in Paris (UTC+2 in July) is 22:30 UTC the day before.
    paris = pa.timestamp("us", tz="Europe/Paris")
    rows = detailed([datetime(2024, 7, 15, 22, 30, tzinfo=UTC)], kind=paris)
    assert str(rows["timestamp"][0]).startswith("2024-07-16 00:30")
    assert prepare_rows(DETAILED, DAY, rows)["date"].to_pylist() == [DAY]
    with pytest.raises(LoadRejected):
        prepare_rows(DETAILED, date(2024, 7, 16), rows)


def test_naive_timestamps_are_taken_as_utc() -> None:
    naive = pa.array([datetime(2024, 7, 15, 23, 30), datetime(2024, 7, 16, 0, 30)], pa.timestamp("us"))
    assert row_dates(pa.chunked_array([naive])).to_pylist() == [DAY, date(2024, 7, 16)]


def test_aggregate_rows_are_checked_on_their_own_date_column() -> None:
    columns = {c: pa.nulls(2) for c in DAILY_AGGREGATES.input_columns}
    columns["date"] = pa.array([DAY, date(2024, 7, 14)], pa.date32())
    with pytest.raises(LoadRejected, match="1 of 2 rows are not dated 2024-07-15"):
        prepare_rows(DAILY_AGGREGATES, DAY, pa.table(columns))


def test_csv_separates_null_from_empty_and_keeps_awkward_strings_whole() -> None:
    awkward = 'Robert\'); DROP TABLE gold_weather_detailed;--\n"quoted", comma'
    rows = pa.table(
        {
            "city": pa.array([awkward, "", None]),
            "temperature": pa.array([1.5, None, -0.1]),
            "timestamp": pa.array([datetime(2024, 7, 15, 22, 30, tzinfo=UTC)] * 3, pa.timestamp("us", "Asia/Tokyo")),
        }
    )
    text = b"".join(bytes(chunk) for chunk in csv_chunks(rows, batch_rows=2)).decode()
    lines = text.splitlines(keepends=True)
    assert lines[-2:] == ['"",,2024-07-15 22:30:00.000000\n', ",-0.1,2024-07-15 22:30:00.000000\n"]
    assert next(csv.reader(io.StringIO(text))) == [awkward, "1.5", "2024-07-15 22:30:00.000000"]
