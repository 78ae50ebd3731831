"""The bronze writer's columnar fast path (sources/observation_columns.py) against the contract's own checks.

The fast path may decline any record (the writer then asks `parse_observation`), but a record it accepts must be
one `parse_observation` accepts, with the same values: hostile batches from hypothesis hold it to that.
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from weather_platform.sources.observation import (
    OBSERVATION_FIELDS,
    TIMESTAMP_FIELDS,
    InvalidObservation,
    field_kind,
    field_values,
    parse_observation,
)
from weather_platform.sources.observation_columns import _read_json, observation_columns
from weather_platform_tests.unit.test_observation import _EDGES, _FIELD_VALUE, valid_record

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (a == b and math.copysign(1, a) == math.copysign(1, b)) or (math.isnan(a) and math.isnan(b))
    return type(a) is type(b) and a == b


def _spellings(changes: dict[str, Any], style: int) -> bytes:
    """A valid record with `changes`, serialised in one of several legal JSON spellings (or none at all)."""
    record = json.loads(valid_record())
    record.update(changes)
    try:
        if style == 0:
            return json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogatepass")
        if style == 1:
            return json.dumps(record, indent=1).encode()  # \uXXXX escapes, newlines between tokens
        return json.dumps(list(record.items())).encode()  # an array: not an observation
    except ValueError:
        return json.dumps(record, ensure_ascii=True, allow_nan=True).encode()


@hypothesis_settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", 400)), deadline=None)
@given(
    st.lists(
        st.tuples(
            st.dictionaries(st.sampled_from(OBSERVATION_FIELDS), st.one_of(_EDGES, _FIELD_VALUE), max_size=3),
            st.sampled_from([0, 0, 0, 1, 2]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_a_record_the_fast_path_accepts_is_the_contracts_record_value_for_value(
    batch: list[tuple[dict[str, Any], int]],
) -> None:
    values = [_spellings(changes, style) for changes, style in batch]
    columns = observation_columns(values, now=NOW)
    rows = pa.table(columns.arrays).to_pylist()
    for value, accepted, row in zip(values, columns.accepted.to_pylist(), rows, strict=True):
        if not accepted:
            continue
        try:
            expected = dict(zip(OBSERVATION_FIELDS, field_values(parse_observation(value)), strict=True))
        except InvalidObservation as exc:
            raise AssertionError(f"the fast path accepted {value[:200]!r}, which the contract refuses: {exc}") from exc
        assert all(_same(row[n], expected[n]) for n in OBSERVATION_FIELDS), (value[:300], row, expected)


def test_the_fast_path_accepts_what_producers_send_in_a_batch_with_hostile_records() -> None:
    """Not vacuous: ordinary records are accepted even beside records it must decline (which Arrow cannot convert)."""
    good = [valid_record(city=f"City {i}", temperature=float(i) / 3, humidity=i % 101) for i in range(200)]
    hostile = [valid_record(humidity=True), valid_record(temperature="warm"), b"\xff", b"[]", valid_record(city="")]
    columns = observation_columns(good + hostile, now=NOW)
    assert columns.accepted.to_pylist() == [True] * len(good) + [False] * len(hostile)
    assert columns.arrays["humidity"].to_pylist()[:3] == [0, 1, 2]
    assert columns.arrays["temperature"].to_pylist()[3] == 1.0


SPELLINGS = [
    "2026-03-14T00:00:00Z", "2026-03-14T00:00:00.250000Z", "2026-03-14T00:00:00.000000Z", "2026-03-14T00:00:00.25Z",
    "2026-03-14T00:00:00+00:00", "2026-03-14 00:00:00Z", "2026-02-30T00:00:00Z", "2026-03-14T24:00:00Z",
    "2026-03-14T00:00:60Z", "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "1939-12-31T23:59:59Z",
    "2099-01-01T00:00:00Z", "٢٠٢٦-03-14T00:00:00Z", "2026-03-14T00:00:00.12345aZ", "2026-03-14T00:00:00z",
]  # fmt: skip


def test_each_timestamp_spelling_is_accepted_only_as_the_contract_gives_it_back() -> None:
    for field in ("timestamp", "ingested_at", "sunrise"):
        values = [valid_record(**{field: spelling}) for spelling in SPELLINGS]
        columns = observation_columns(values)  # the contract's clock: the future bound is the same on both sides
        for spelling, accepted, stored in zip(
            SPELLINGS, columns.accepted.to_pylist(), columns.arrays[field].to_pylist(), strict=True
        ):
            try:
                expected = getattr(parse_observation(valid_record(**{field: spelling})), field)
            except InvalidObservation:
                expected = None
            if accepted:
                assert stored == expected == spelling, (field, spelling)
            else:
                assert expected != spelling, (field, spelling)  # declined: the contract refuses it or respells it
    assert observation_columns([valid_record(timestamp="2026-03-14T00:00:00.250000Z")], now=NOW).observed_at[
        0
    ].as_py() == datetime(2026, 3, 14, 0, 0, 0, 250000, tzinfo=UTC)


# Number spellings JSON parsers may read differently: Arrow's reader (the fast path for readable batches) and
# `json.loads` (the contract) must agree on every one the fast path vouches for.
RAW_NUMBERS = [
    b"-0", b"0", b"-0.0", b"0e0", b"-0e5", b"1e2", b"1E+2", b"87.0", b"1.5", b"-40", b"64800", b"64801",
    b"123456789012345678901234567890", b"9007199254740993", b"-9223372036854775809",
    b"1.00000000000000011102230246251565404236316680908203125", b"4.9e-324", b"1e-400", b"-1e-400",
    b"1.7976931348623157e308", b"1e309", b"NaN", b"Infinity", b"-Infinity",
]  # fmt: skip
NUMERIC_FIELDS = [name for name in OBSERVATION_FIELDS if field_kind(name) in (int, float)]
TEXT_FIELDS = [name for name in OBSERVATION_FIELDS if field_kind(name) is str and name not in TIMESTAMP_FIELDS]


def _with_raw(changes: dict[str, bytes | str]) -> bytes:
    """A valid record whose numeric fields in `changes` are spelled exactly as given and whose text fields hold the
    given text (JSON-escaped as `json.dumps` does)."""
    record = json.loads(valid_record())
    for index, (name, value) in enumerate(changes.items()):
        record[name] = value if isinstance(value, str) else f"@raw{index}@"
    value = json.dumps(record).encode()
    for index, raw in enumerate(changes.values()):
        if isinstance(raw, bytes):
            value = value.replace(f'"@raw{index}@"'.encode(), raw)
    return value


@hypothesis_settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", 400)), deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(NUMERIC_FIELDS + TEXT_FIELDS),
            st.sampled_from(RAW_NUMBERS) | st.text(max_size=20),
            max_size=3,
        ).map(
            lambda changes: {  # each field keeps its JSON type: the batch stays one Arrow can read
                name: value for name, value in changes.items() if isinstance(value, bytes) == (name in NUMERIC_FIELDS)
            }
        ),
        min_size=1,
        max_size=8,
    )
)
def test_a_record_arrows_json_reader_vouches_for_is_the_contracts_record_value_for_value(
    batch: list[dict[str, bytes | str]],
) -> None:
    values = [_with_raw(changes) for changes in batch]
    columns = observation_columns(values, now=NOW)
    rows = pa.table(columns.arrays).to_pylist()
    for value, accepted, row in zip(values, columns.accepted.to_pylist(), rows, strict=True):
        if accepted:
            expected = dict(zip(OBSERVATION_FIELDS, field_values(parse_observation(value)), strict=True))
            assert all(_same(row[n], expected[n]) for n in OBSERVATION_FIELDS), (value[:300], row, expected)


def test_arrows_json_reader_reads_what_producers_send_and_declines_what_it_reads_differently() -> None:
    """Not vacuous: a producer's batch is read by Arrow's reader, and so is one with each spelling it reads; a record
    the reader would read otherwise than `json.loads` (-0, NaN) is declined and the others still accepted."""
    good = [valid_record(city=f"City {i}", temperature=i / 3) for i in range(50)]
    assert _read_json(good) is not None
    for raw, vouched in ((b"-0", False), (b"NaN", False), (b"1e2", True), (b"-0.0", False), (b"87.5", True)):
        values = [*good, _with_raw({"temperature": raw})]
        assert _read_json(values) is not None, raw
        columns = observation_columns(values, now=NOW)
        assert columns.accepted.to_pylist() == [True] * len(good) + [vouched], raw


def test_a_batch_arrows_json_reader_cannot_align_with_its_values_goes_the_orjson_way() -> None:
    """Lines and values must match one to one: an indented value spans lines, two objects may share one, an empty
    value is no line at all, a key twice is read otherwise, text that is not UTF-8 is copied as it is; such batches are
    parsed value by value."""
    good = [valid_record(city=f"City {i}") for i in range(5)]
    two = valid_record(city="A") + b" " + valid_record(city="B")
    indented = json.dumps(json.loads(valid_record(city="Indented")), indent=1).encode()
    twice = valid_record(city="First")[:-1] + b', "city": "Second"}'
    lone = valid_record(city="a\udc00")  # json.dumps escapes it: Arrow writes the surrogate as WTF-8 bytes
    raw_surrogate = valid_record(city="@").replace(b'"@"', b'"a\xed\xa0\x80"')  # the same bytes, unescaped
    for hostile in (
        two,
        indented,
        b"",
        b" " + valid_record(),
        twice,
        valid_record(extra=1),
        b"\xff",
        lone,
        raw_surrogate,
    ):
        values = [*good, hostile]
        assert _read_json(values) is None, hostile[:40]
        columns = observation_columns(values, now=NOW)
        assert columns.accepted.to_pylist()[:5] == [True] * 5
        if hostile in (indented, twice):  # legal JSON objects: the orjson way reads them as the contract does
            assert columns.accepted.to_pylist()[5] is True
            assert columns.arrays["city"][5].as_py() == parse_observation(hostile).city
