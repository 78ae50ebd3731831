"""Hostile Kafka records over the observation contract: named poison cases and `hypothesis` strategies.

Shared by the regression tests and `make chaos`. A case is a (key, value) pair as a producer could send it,
bypassing our producer; `expect` says whether the contract must accept it (`valid`) or send it to the
dead-letter topic (`dead`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from hypothesis import strategies as st

from weather_platform.sources.observation import OBSERVATION_FIELDS

Expect = Literal["valid", "dead"]


def base_record(moment: datetime, city: str = "Poisonville", country: str = "PV") -> dict[str, Any]:
    """A complete, valid record of the contract at `moment`."""
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "schema_version": 1, "source": "hostile", "city": city, "country": country, "city_id": 42,
        "latitude": 10.5, "longitude": -20.25, "timestamp": stamp, "ingested_at": stamp, "temperature": 12.5,
        "feels_like": 11.0, "temp_min": 10.0, "temp_max": 14.0, "pressure": 1012, "sea_level": 1012,
        "grnd_level": 1000, "humidity": 70, "visibility": 10000, "wind_speed": 3.5, "wind_deg": 180,
        "wind_gust": 6.0, "clouds": 40, "rain_1h": 0.2, "snow_1h": None, "weather_main": "Rain",
        "weather_description": "light rain", "weather_icon": "10d", "sunrise": stamp, "sunset": stamp,
        "timezone_offset": 0,
    }  # fmt: skip


@dataclass(frozen=True)
class Case:
    kind: str
    key: bytes | None
    value: bytes | None
    expect: Expect


def _json(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode("utf-8", errors="surrogatepass")


def poison_cases(moment: datetime) -> list[Case]:
    """One record of every kind that once broke a layer, or that a hostile producer would try (≥ 30 kinds)."""
    key = b"Poisonville,PV"

    def changed(**changes: Any) -> bytes:
        return _json({**base_record(moment), **changes})

    def raw(text: str) -> bytes:  # JSON text written by hand, e.g. escapes json.dumps would not produce
        return text.encode()

    record_text = json.dumps(base_record(moment))
    cases = [
        Case("humidity 2**64", key, changed(humidity=2**64), "dead"),
        Case("city_id 2**63", key, changed(city_id=2**63), "dead"),
        Case("pressure 1e308", key, changed(pressure=1e308), "dead"),
        Case("integer of 400 digits", key, raw(record_text.replace('"humidity": 70', f'"humidity": 1{"0" * 400}')),
             "dead"),
        Case("lone surrogate in city", key, raw(record_text.replace('"Poisonville"', '"Poison\\ud800ville"')), "dead"),
        Case("lone surrogate in description", key, raw(record_text.replace('"light rain"', '"\\udfff"')), "dead"),
        Case("UTF-16 JSON value", key, record_text.encode("utf-16"), "dead"),
        Case("UTF-32 JSON value", key, record_text.encode("utf-32"), "dead"),
        Case("Latin-1 bytes in a string", key, record_text.replace("light rain", "l\xe9g\xe8re").encode("latin-1"),
             "dead"),
        Case("900 KB description", key, changed(weather_description="x" * 900_000), "dead"),
        Case("NUL in description", key, changed(weather_description="light\x00rain"), "dead"),
        Case("NUL in city", key, changed(city="Poison\x00ville"), "dead"),
        Case("NUL byte in the Kafka key", b"Poison\x00ville,PV", changed(), "dead"),
        Case("Kafka key of 10 KB", b"k" * 10_000, changed(), "dead"),
        Case("Kafka key not UTF-8", b"\xff\xfe,PV", changed(), "dead"),
        Case("city of 10 KB", key, changed(city="C" * 10_000), "dead"),
        Case("year 1", key, changed(timestamp="0001-01-01T00:00:00Z"), "dead"),
        Case("year 2999", key, changed(timestamp="2999-06-01T12:00:00Z"), "dead"),
        Case("before the first partition", key, changed(timestamp="1950-06-01T12:00:00Z"), "dead"),
        Case("timestamp of 10 KB", key, changed(timestamp="2" * 10_000), "dead"),
        Case("timestamp with +01:00", key, changed(timestamp=moment.strftime("%Y-%m-%dT%H:%M:%S+01:00")), "dead"),
        Case("naive timestamp", key, changed(timestamp=moment.strftime("%Y-%m-%dT%H:%M:%S")), "dead"),
        Case("timezone_offset of 10**6 s", key, changed(timezone_offset=10**6), "dead"),
        Case("NaN literal", key, raw(record_text.replace('"temperature": 12.5', '"temperature": NaN')), "dead"),
        Case("Infinity literal", key, raw(record_text.replace('"wind_speed": 3.5', '"wind_speed": -Infinity')), "dead"),
        Case("temperature as text", key, changed(temperature="12.5"), "dead"),
        Case("temperature as boolean", key, changed(temperature=True), "dead"),
        Case("missing city", key, changed(city=None), "dead"),
        Case("empty city", key, changed(city=""), "dead"),
        Case("schema_version from the future", key, changed(schema_version=99), "dead"),
        Case("JSON array", key, b"[1, 2, 3]", "dead"),
        Case("nested 100,000 deep", key, b"[" * 100_000 + b"]" * 100_000, "dead"),
        Case("truncated JSON", key, _json(base_record(moment))[:-7], "dead"),
        Case("empty value", key, b"", "dead"),
        Case("tombstone (null value)", key, None, "dead"),
        Case("binary garbage", key, bytes(range(256)), "dead"),
        # odd but valid: they must reach bronze (and silver decides on them)
        Case("ISO week timestamp", key, changed(timestamp=moment.strftime("%G-W%V-%uT%H:%M:%SZ")), "valid"),
        Case("basic-format timestamp", key, changed(timestamp=moment.strftime("%Y%m%dT%H%M%SZ")), "valid"),
        Case("temperature 1e308", key, changed(temperature=1e308), "valid"),
        Case("no key", None, changed(), "valid"),
        Case("unknown extra fields", key, _json({**base_record(moment), **{f"x{i}": i for i in range(500)}}), "valid"),
        Case("city of 200 characters", key, changed(city="\u00e9" * 200), "valid"),
        Case("emoji and RTL city", key, changed(city="\U0001f327\ufe0f \u05e2\u05d9\u05e8"), "valid"),
        Case("SQL in city", key, changed(city="Robert'); DROP TABLE gold_weather_detailed;--"), "valid"),
    ]  # fmt: skip
    return cases


# --- hypothesis strategies -------------------------------------------------------------------------------

_HOSTILE_NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([2**63, -(2**63) - 1, 2**64, 1e308, -1e308, 5e-324, 0.0, -0.0]),
)
_HOSTILE_TEXT = st.one_of(
    st.text(st.characters(codec=None, categories=None), max_size=40),  # every code point, surrogates included
    st.text(st.characters(categories=["Cs", "Cc", "Zl", "Zp"]), min_size=1, max_size=5),
    st.sampled_from(["", " ", "\x00", "NaN", "2026-13-45T25:61:61Z", "0001-01-01T00:00:00Z", "'; DROP TABLE x;--"]),
    st.builds(lambda n: "y" * n, st.integers(min_value=190, max_value=5000)),
)
_HOSTILE_TIMESTAMPS = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)).map(
        lambda d: d.isoformat().replace("+00:00", "Z")
    ),
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 1)).map(lambda d: d.isoformat()),
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 1), timezones=st.timezones()).map(
        lambda d: d.isoformat()
    ),
    _HOSTILE_TEXT,
)
_ANY_VALUE = st.one_of(
    st.none(), st.booleans(), _HOSTILE_NUMBERS, _HOSTILE_TEXT, st.lists(st.integers(), max_size=3), st.just({})
)


@st.composite
def hostile_records(
    draw: st.DrawFn, moment: datetime = datetime(2026, 3, 14, 12, tzinfo=UTC)
) -> tuple[bytes | None, bytes | None]:
    """A (key, value) pair: a valid record with a few fields replaced by hostile values, or hostile bytes."""
    record = base_record(moment + timedelta(seconds=draw(st.integers(0, 86_399))))
    for name in draw(st.lists(st.sampled_from(OBSERVATION_FIELDS), max_size=4, unique=True)):
        if name in ("timestamp", "ingested_at", "sunrise", "sunset"):
            record[name] = draw(_HOSTILE_TIMESTAMPS)
        else:
            record[name] = draw(_ANY_VALUE)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-16", "latin-1"]))
    text = json.dumps(record, ensure_ascii=draw(st.booleans()), allow_nan=True)
    value: bytes | None = text.encode(encoding, errors="surrogatepass" if encoding.startswith("utf") else "replace")
    if draw(st.integers(0, 19)) == 0:
        value = draw(st.one_of(st.none(), st.binary(max_size=64)))
    key = draw(
        st.one_of(
            st.just(f"{record.get('city')},{record.get('country')}".encode("utf-8", errors="surrogatepass")),
            st.none(),
            st.binary(max_size=16),
            st.text(max_size=8).map(lambda t: t.encode("utf-8", errors="surrogatepass")),
        )
    )
    return key, value
