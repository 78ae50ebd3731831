"""The bronze writer's per-record error boundary, without services: every record is written or dead-lettered.

The poison cases are the ones that once halted a partition for good (OverflowError, UnicodeEncodeError,
UnicodeDecodeError in the Arrow conversion); `hypothesis` adds thousands more. The integration test of the
same boundary on the real broker and S3 is in `integration/test_bronze_poison.py`.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weather_platform.streaming.bronze_writer import BRONZE_SCHEMA, _parse, _row, _to_table, to_parquet
from weather_platform.streaming.dead_letter import MAX_VALUE_BYTES, DeadLetter
from weather_platform_tests.hostile import hostile_records, poison_cases

MOMENT = datetime(2026, 3, 14, 12, 30, tzinfo=UTC)
EARLIEST = date(2025, 1, 1)


@dataclass(frozen=True)
class Record:
    """The fields of a kafka-python ConsumerRecord the writer reads."""

    key: bytes | None
    value: bytes | None
    offset: int = 7
    topic: str = "weather-data"
    partition: int = 0
    timestamp: int = 1_773_491_400_000


def _written(tables: dict[date, object]) -> int:
    total = 0
    for table in tables.values():
        parquet = to_parquet(table.append_column("bronze_object", [["k"] * table.num_rows]))  # type: ignore[attr-defined]
        total += pq.read_table(io.BytesIO(parquet)).num_rows
    return total


@pytest.mark.parametrize("case", poison_cases(MOMENT), ids=lambda c: c.kind)
def test_each_poison_record_is_dead_lettered_or_written_never_raised(case) -> None:  # type: ignore[no-untyped-def]
    tables, dead = _parse([Record(case.key, case.value)], EARLIEST)

    if case.expect == "dead":
        assert not tables and len(dead) == 1
        letter = dead[0]
        assert letter.reason and letter.source_offset == 7
        assert len(letter.to_json()) < 2 * MAX_VALUE_BYTES + 4096  # a dead letter always fits a Kafka message
        assert DeadLetter.from_json(letter.to_json()) == letter
        assert letter.raw_size == len(case.value or b"")
    else:
        assert not dead, dead[0].reason
        assert _written(tables) == 1


def test_valid_odd_timestamps_are_stored_in_the_canonical_form() -> None:
    week, basic = (c for c in poison_cases(MOMENT) if "timestamp" in c.kind and c.expect == "valid")
    tables, dead = _parse([Record(week.key, week.value), Record(basic.key, basic.value, offset=8)], EARLIEST)
    assert not dead
    [table] = tables.values()
    assert set(table["timestamp"].to_pylist()) == {"2026-03-14T12:30:00Z"}


def test_an_oversized_dead_letter_keeps_size_hash_and_a_prefix() -> None:
    [case] = [c for c in poison_cases(MOMENT) if c.kind == "900 KB description"]
    [letter] = _parse([Record(case.key, case.value)], EARLIEST)[1]
    assert letter.truncated and letter.raw_size == len(case.value or b"") > MAX_VALUE_BYTES
    assert letter.raw is not None and (case.value or b"").startswith(letter.raw.encode())
    assert len(letter.raw_sha256) == 64


def test_one_poison_record_does_not_cost_its_batch_neighbours() -> None:
    good = json.dumps({"city": "Oslo", "country": "NO", "timestamp": "2026-03-14T10:00:00Z", "temperature": 1.5})
    records = [Record(b"Oslo,NO", good.encode(), offset=i) for i in range(10)]
    records += [Record(c.key, c.value, offset=100 + i) for i, c in enumerate(poison_cases(MOMENT))]

    tables, dead = _parse(records, EARLIEST)

    expected_dead = sum(c.expect == "dead" for c in poison_cases(MOMENT))
    assert len(dead) == expected_dead
    assert _written(tables) == len(records) - expected_dead


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(hostile_records(MOMENT))
def test_generated_hostile_records_are_written_or_dead_lettered(record: tuple[bytes | None, bytes | None]) -> None:
    key, value = record
    tables, dead = _parse([Record(key, value)], EARLIEST)

    assert len(dead) + sum(t.num_rows for t in tables.values()) == 1
    if tables:
        assert _written(tables) == 1
        [table] = tables.values()
        assert table.schema.names == BRONZE_SCHEMA.names[:-1]
        stamp = table["timestamp"][0].as_py()
        assert stamp.endswith("Z") and date.fromisoformat(stamp[:10]) >= EARLIEST
        for name in ("city", "country", "weather_description", "kafka_key"):
            text = table[name][0].as_py()
            assert text is None or "\x00" not in text
    else:
        assert dead[0].reason
        assert DeadLetter.from_json(dead[0].to_json()) == dead[0]


def _record_by_record(records: list[Record], earliest: date) -> tuple[dict[date, list[dict]], list[str]]:
    """What `_parse` gave before its columnar path: each record through `_row`, each day through `_to_table`."""
    rows: dict[date, list] = {}
    reasons = []
    for record in records:
        try:
            row, day = _row(record, earliest)
        except Exception as exc:
            reasons.append(getattr(exc, "reason", type(exc).__name__))
            continue
        rows.setdefault(day, []).append((record, row))
    tables = {}
    for day, day_rows in rows.items():
        table, rejected = _to_table(day_rows)
        reasons += [letter.reason for letter in rejected]
        if table is not None:
            tables[day] = table.to_pylist()
    return tables, reasons


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(st.lists(st.one_of(hostile_records(MOMENT), st.just(None)), min_size=1, max_size=20))
def test_the_columnar_path_writes_the_rows_and_refuses_the_records_the_record_path_does(
    batch: list[tuple[bytes | None, bytes | None] | None],
) -> None:
    """`_parse` checks a batch column by column and sends what that path declines record by record: the rows
    written (value for value, in offset order) and the reasons refused must be those of the record path alone."""
    good = json.dumps({"city": "Oslo", "country": "NO", "timestamp": "2026-03-14T10:00:00.5Z", "temperature": 1.5})
    records = [
        Record(b"Oslo,NO", good.encode(), offset=i) if item is None else Record(item[0], item[1], offset=i)
        for i, item in enumerate(batch)
    ]
    tables, dead = _parse(records, EARLIEST)
    expected_tables, expected_reasons = _record_by_record(records, EARLIEST)

    assert {day: table.to_pylist() for day, table in tables.items()} == expected_tables
    assert sorted(letter.reason for letter in dead) == sorted(expected_reasons)


@pytest.mark.parametrize(
    "key", [None, b"", b"Oslo,NO", "Zürich,CH".encode(), b"k" * 512, b"k" * 513, b"\xff", b"a\x00b"]
)
def test_the_columnar_path_takes_a_kafka_key_exactly_when_the_record_path_does(key: bytes | None) -> None:
    good = json.dumps({"city": "Oslo", "timestamp": "2026-03-14T10:00:00Z", "temperature": 1.5}).encode()
    records = [Record(b"Oslo,NO", good, offset=0), Record(key, good, offset=1)]
    tables, dead = _parse(records, EARLIEST)
    expected_tables, expected_reasons = _record_by_record(records, EARLIEST)
    assert {day: table.to_pylist() for day, table in tables.items()} == expected_tables
    assert [letter.reason for letter in dead] == expected_reasons


def test_a_batch_the_columnar_path_trips_over_is_judged_record_by_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """The columnar path is a shortcut: an unforeseen error in it must not cost the batch (one record never stops
    a partition), the record path then writes and refuses exactly what it would have alone."""
    import weather_platform.streaming.bronze_writer as writer

    def broken(values: object, now: object = None) -> object:
        raise ZeroDivisionError("an unforeseen failure")

    good = json.dumps({"city": "Oslo", "timestamp": "2026-03-14T10:00:00Z", "temperature": 1.5}).encode()
    records = [Record(b"Oslo,NO", good, offset=0), Record(b"Oslo,NO", b"{", offset=1)]
    monkeypatch.setattr(writer, "observation_columns", broken)
    tables, dead = _parse(records, EARLIEST)
    assert [t.num_rows for t in tables.values()] == [1] and [letter.source_offset for letter in dead] == [1]
