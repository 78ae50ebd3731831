"""The observation contract (docs/DESIGN.md §4.1): OpenWeather mapping, JSON round trip, and every rejection reason."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from weather_platform.sources.observation import (
    OBSERVATION_FIELDS,
    REQUIRED_FIELDS,
    SCHEMA_VERSION,
    InvalidObservation,
    Observation,
    check_key,
    from_openweather,
    kafka_key,
    parse_observation,
    to_json,
)

CONTRACT_FIELDS = [
    "schema_version",
    "source",
    "city",
    "country",
    "city_id",
    "latitude",
    "longitude",
    "timestamp",
    "ingested_at",
    "temperature",
    "feels_like",
    "temp_min",
    "temp_max",
    "pressure",
    "sea_level",
    "grnd_level",
    "humidity",
    "visibility",
    "wind_speed",
    "wind_deg",
    "wind_gust",
    "clouds",
    "rain_1h",
    "snow_1h",
    "weather_main",
    "weather_description",
    "weather_icon",
    "sunrise",
    "sunset",
    "timezone_offset",
]

INGESTED_AT = datetime(2024, 1, 15, 12, 3, 7, 250000, tzinfo=UTC)

# Shaped like a real OpenWeather current-weather answer (units=metric), rain included.
PAYLOAD: dict[str, Any] = {
    "coord": {"lon": -0.1257, "lat": 51.5085},
    "weather": [{"id": 500, "main": "Rain", "description": "light rain", "icon": "10d"}],
    "base": "stations",
    "main": {
        "temp": 8.42,
        "feels_like": 5.91,
        "temp_min": 7.2,
        "temp_max": 9.44,
        "pressure": 1004,
        "humidity": 87,
        "sea_level": 1004,
        "grnd_level": 1001,
    },
    "visibility": 9000,
    "wind": {"speed": 5.14, "deg": 230, "gust": 9.26},
    "rain": {"1h": 0.61},
    "clouds": {"all": 90},
    "dt": 1705320000,
    "sys": {"type": 2, "id": 2075535, "country": "GB", "sunrise": 1705305621, "sunset": 1705336108},
    "timezone": 0,
    "id": 2643743,
    "name": "London",
    "cod": 200,
}


def parse_openweather(payload: Any) -> Observation:
    return from_openweather(payload, source="openweather", ingested_at=INGESTED_AT)


def without(path: str) -> dict[str, Any]:
    payload = copy.deepcopy(PAYLOAD)
    *parents, leaf = path.split(".")
    node = payload
    for part in parents:
        node = node[part]
    del node[leaf]
    return payload


def with_value(path: str, value: Any) -> dict[str, Any]:
    payload = copy.deepcopy(PAYLOAD)
    *parents, leaf = path.split(".")
    node = payload
    for part in parents:
        node = node[part]
    node[leaf] = value
    return payload


def test_fields_are_the_contract_in_order() -> None:
    assert list(OBSERVATION_FIELDS) == CONTRACT_FIELDS
    assert REQUIRED_FIELDS == ("city", "timestamp", "temperature")


def test_openweather_payload_maps_to_every_field() -> None:
    obs = parse_openweather(PAYLOAD)

    assert obs == Observation(
        schema_version=SCHEMA_VERSION,
        source="openweather",
        city="London",
        country="GB",
        city_id=2643743,
        latitude=51.5085,
        longitude=-0.1257,
        timestamp="2024-01-15T12:00:00Z",
        ingested_at="2024-01-15T12:03:07.250000Z",
        temperature=8.42,
        feels_like=5.91,
        temp_min=7.2,
        temp_max=9.44,
        pressure=1004,
        sea_level=1004,
        grnd_level=1001,
        humidity=87,
        visibility=9000,
        wind_speed=5.14,
        wind_deg=230,
        wind_gust=9.26,
        clouds=90,
        rain_1h=0.61,
        snow_1h=None,
        weather_main="Rain",
        weather_description="light rain",
        weather_icon="10d",
        sunrise="2024-01-15T08:00:21Z",
        sunset="2024-01-15T16:28:28Z",
        timezone_offset=0,
    )


def test_absent_optional_sections_become_none() -> None:
    payload = {"name": "Oslo", "dt": 1705320000, "main": {"temp": -7.5}, "weather": []}

    obs = parse_openweather(payload)

    assert (obs.city, obs.temperature, obs.timestamp) == ("Oslo", -7.5, "2024-01-15T12:00:00Z")
    optional = set(OBSERVATION_FIELDS) - set(REQUIRED_FIELDS) - {"schema_version", "source", "ingested_at"}
    assert all(getattr(obs, name) is None for name in optional)


def test_integral_floats_are_accepted_for_integer_fields() -> None:
    assert parse_openweather(with_value("main.humidity", 87.0)).humidity == 87


def test_absurd_but_parseable_values_are_kept_for_silver_to_judge() -> None:
    obs = parse_openweather(with_value("main.temp", 999))
    assert obs.temperature == 999.0
    assert parse_observation(to_json(obs)).temperature == 999.0


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (without("main.temp"), "missing required field: temperature"),
        (without("main"), "missing required field: temperature"),
        (without("name"), "missing required field: city"),
        (with_value("name", ""), "missing required field: city"),
        (without("dt"), "missing required field: timestamp"),
        (with_value("main.temp", "warm"), "wrong type for temperature: expected number, got string"),
        (with_value("main.temp", True), "wrong type for temperature: expected number, got boolean"),
        (with_value("main.humidity", 87.5), "wrong type for humidity: expected integer, got 87.5"),
        (with_value("main", "n/a"), "wrong type for main: got string"),
        (with_value("dt", "yesterday"), "wrong type for dt: expected epoch seconds, got string"),
        (with_value("dt", 1e20), "invalid epoch seconds in dt: 1e+20"),
        (with_value("main.temp", float("nan")), "non-finite number in temperature: nan"),
        ([PAYLOAD], "expected a JSON object, got array"),
    ],
)
def test_unusable_openweather_payloads_are_rejected_with_a_reason(payload: Any, reason: str) -> None:
    with pytest.raises(InvalidObservation) as caught:
        parse_openweather(payload)
    assert caught.value.reason == reason
    assert str(caught.value) == reason
    assert isinstance(caught.value, ValueError)


def test_json_round_trip_keeps_contract_order() -> None:
    obs = parse_openweather(PAYLOAD)
    raw = to_json(obs)

    assert list(json.loads(raw)) == CONTRACT_FIELDS
    assert parse_observation(raw) == obs


def test_kafka_key_is_city_and_country() -> None:
    assert kafka_key(parse_openweather(PAYLOAD)) == b"London,GB"


def valid_record(**changes: Any) -> bytes:
    record = json.loads(to_json(parse_openweather(PAYLOAD)))
    record.update(changes)
    return json.dumps(record).encode()


def test_consumer_accepts_a_minimal_record_and_ignores_unknown_keys() -> None:
    raw = b'{"city": "Paris", "timestamp": "2024-01-15T12:00:00+00:00", "temperature": 4, "extra": [1]}'

    obs = parse_observation(raw)

    assert (obs.city, obs.timestamp, obs.temperature, obs.country) == ("Paris", "2024-01-15T12:00:00Z", 4.0, None)


def minimal_without(name: str) -> bytes:
    record = {"city": "Paris", "timestamp": "2024-01-15T12:00:00Z", "temperature": 4.5}
    del record[name]
    return json.dumps(record).encode()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"city": "Paris", "timestamp": ', "malformed JSON: Expecting value: line 1 column 32 (char 31)"),
        (b"\xff\xfe\x00", "value is not UTF-8: "),
        (
            '{"city": "Paris", "timestamp": "2024-01-15T12:00:00Z", "temperature": 4}'.encode("utf-16"),
            "value is not UTF-8",
        ),
        (valid_record(humidity=2**64), "integer out of range in humidity: 18446744073709551616"),
        (valid_record(city_id=2**63), "integer out of range in city_id"),
        (valid_record(pressure=1e308), "integer out of range in pressure"),
        (
            valid_record(timezone_offset=90_000),
            "integer out of range in timezone_offset: 90000 (allowed -64800 … 64800)",
        ),
        (
            b'{"city": "Pa\\ud800ris", "timestamp": "2024-01-15T12:00:00Z", "temperature": 4}',
            "text in city is not valid Unicode",
        ),
        (valid_record(city="Par\x00is"), "text in city contains a NUL character"),
        (valid_record(city="C" * 201), "text in city has 201 characters, more than 200"),
        (valid_record(weather_description="d" * 900_000), "text in weather_description has 900000 characters"),
        (
            valid_record(timestamp="0001-01-01T00:00:00Z"),
            "observation time '0001-01-01T00:00:00Z' is outside 1940-01-01",
        ),
        (valid_record(timestamp="2999-01-01T00:00:00Z"), "observation time '2999-01-01T00:00:00Z' is outside"),
        (b"", "malformed JSON: Expecting value: line 1 column 1 (char 0)"),
        (b"[1, 2]", "expected a JSON object, got array"),
        (b'"Paris"', "expected a JSON object, got string"),
        (b"null", "expected a JSON object, got null"),
        (minimal_without("city"), "missing required field: city"),
        (minimal_without("timestamp"), "missing required field: timestamp"),
        (minimal_without("temperature"), "missing required field: temperature"),
        (valid_record(temperature=None), "missing required field: temperature"),
        (valid_record(temperature="4.5"), "wrong type for temperature: expected number, got string"),
        (valid_record(city=42), "wrong type for city: expected string, got number"),
        (valid_record(humidity=[80]), "wrong type for humidity: expected number, got array"),
        (valid_record(pressure=1004.5), "wrong type for pressure: expected integer, got 1004.5"),
        (valid_record(temperature=float("nan")), "non-finite number in temperature: nan"),
        (valid_record(wind_speed=float("inf")), "non-finite number in wind_speed: inf"),
        (valid_record(timestamp="yesterday"), "invalid timestamp in timestamp: 'yesterday' (expected ISO-8601 UTC)"),
        (
            valid_record(timestamp="2024-01-15T12:00:00"),
            "invalid timestamp in timestamp: '2024-01-15T12:00:00' (expected ISO-8601 UTC)",
        ),
        (
            valid_record(sunrise="2024-01-15T09:00:00+01:00"),
            "invalid timestamp in sunrise: '2024-01-15T09:00:00+01:00' (expected ISO-8601 UTC)",
        ),
        (valid_record(schema_version=SCHEMA_VERSION + 1), f"unsupported schema_version: {SCHEMA_VERSION + 1}"),
    ],
)
def test_consumer_rejects_unusable_records_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidObservation) as caught:
        parse_observation(raw)
    assert caught.value.reason.startswith(reason)


@pytest.mark.parametrize(
    "spelling",
    [
        "2024-01-15T12:00:00+00:00",
        "2024-01-15T12:00:00Z",
        "2024-W03-1T12:00:00Z",
        "20240115T120000Z",
        "2024-01-15 12:00:00Z",
    ],
)
def test_every_iso_spelling_of_an_instant_is_stored_in_the_one_canonical_form(spelling: str) -> None:
    assert parse_observation(valid_record(timestamp=spelling)).timestamp == "2024-01-15T12:00:00Z"


def test_the_kafka_key_must_be_storable_text() -> None:
    assert check_key(b"Paris,FR") == "Paris,FR" and check_key(None) is None
    for key, reason in (
        (b"Par\x00is,FR", "Kafka key contains a NUL byte"),
        (b"\xff,FR", "Kafka key is not UTF-8"),
        (b"k" * 513, "Kafka key of 513 bytes is longer than 512"),
    ):
        with pytest.raises(InvalidObservation) as caught:
            check_key(key)
        assert caught.value.reason.startswith(reason)


def test_huge_integers_are_rejected_not_crashing_the_consumer() -> None:
    raw = b'{"city": "Paris", "timestamp": "2024-01-15T12:00:00Z", "temperature": 4, "humidity": 1' + b"0" * 400 + b"}"
    with pytest.raises(InvalidObservation, match="non-finite number in humidity"):
        parse_observation(raw)


def test_the_observation_dataclass_is_the_schema_contracts_bronze_columns() -> None:
    """The Python contract and the schema contract name the same fields, in order, with the same bronze types."""
    import typing

    import pyarrow as pa

    from weather_platform.schema import OBSERVATION
    from weather_platform.sources.observation import OBSERVATION_FIELDS, Observation

    arrow = {int: pa.int64(), float: pa.float64(), str: pa.string()}
    hints = typing.get_type_hints(Observation)
    kinds = {n: next(t for t in typing.get_args(hints[n]) or (hints[n],) if t is not type(None)) for n in hints}
    assert tuple(c.name for c in OBSERVATION) == OBSERVATION_FIELDS
    assert {c.name: c.bronze for c in OBSERVATION} == {name: arrow[kinds[name]] for name in OBSERVATION_FIELDS}


_ANY_VALUE = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.text(max_size=12),
    st.text(alphabet=st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010, exclude_categories=()), max_size=4),
)


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(OBSERVATION_FIELDS), _ANY_VALUE, max_size=8))
def test_to_json_writes_what_the_standard_library_writes_or_refuses_alike(changes: dict[str, Any]) -> None:
    """orjson serves the producer; the bytes must mean exactly what `json` would write, and what `json` refuses
    (NaN, infinities, lone surrogates) must still be refused, never written as null or mangled."""
    obs = dataclasses.replace(parse_openweather(PAYLOAD), **changes)
    record = {name: getattr(obs, name) for name in OBSERVATION_FIELDS}
    try:
        reference = json.dumps(record, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except (ValueError, UnicodeEncodeError) as refused:
        with pytest.raises(type(refused)):
            to_json(obs)
        return
    written = to_json(obs)
    assert json.loads(written) == json.loads(reference)
    assert list(json.loads(written)) == CONTRACT_FIELDS


_TIMESTAMP_LIKE = st.one_of(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)).map(
        lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")
    ),
    st.builds(lambda d, zone: d.isoformat() + zone, st.datetimes(), st.sampled_from(["Z", "+00:00", "+01:00", ""])),
    st.from_regex(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", fullmatch=True),
    st.sampled_from(["2026-W11-1T00:00:00Z", "20260314T000000Z", "2026-03-14T24:00:00Z", "2026-02-30T00:00:00Z"]),
)
_FIELD_VALUE = st.one_of(
    _ANY_VALUE,
    _TIMESTAMP_LIKE,
    st.booleans(),
    st.just(""),
    st.text(min_size=60, max_size=300),
    st.integers(min_value=-(2**63) - 2, max_value=-(2**63) + 2) | st.integers(min_value=2**63 - 2, max_value=2**63 + 2),
    st.integers(min_value=-70_000, max_value=70_000),
)


_EDGES = st.sampled_from(
    [None, "", float("nan"), float("inf"), -float("inf"), -0.0, 1e308, 2**63 - 1, 2**63, -(2**63) - 1, 10**400, True,
     False, 87.0, 87.5, "\x00", "a\ud800", "é", "x" * 256, "x" * 257, "2026-03-14T00:00:00Z",
     "2026-03-14T00:00:00+00:00", "1939-12-31T23:59:59Z", "2099-01-01T00:00:00Z",
     "2026-03-14T00:00:00.000000Z", 64_800, 64_801]
)  # fmt: skip


@hypothesis_settings(max_examples=3000, deadline=None)
@given(st.sampled_from(OBSERVATION_FIELDS), st.one_of(_EDGES, _FIELD_VALUE))
def test_the_fast_field_checks_agree_with_the_contract_checks(name: str, value: Any) -> None:
    """The bronze writer's fast paths (observation._fast_check) give the value or the reason `_check` gives."""
    from weather_platform.sources.observation import _check, _fast_check

    def outcome(check: Any) -> tuple[str, Any]:
        try:
            return ("ok", check(value))
        except InvalidObservation as exc:
            return ("refused", exc.reason)

    expected, got = outcome(lambda v: _check(name, v)), outcome(_fast_check(name))
    assert got == expected
    assert type(got[1]) is type(expected[1])
