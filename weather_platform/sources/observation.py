"""The observation contract (docs/DESIGN.md §4.1): the JSON value every producer writes and every consumer reads.

Producers build observations from OpenWeather payloads; consumers re-validate the bytes they read, so a bad
record is rejected with a reason (for the dead-letter topic) instead of breaking a batch. Values that parse
but are absurd (a temperature of 999) are kept: range filtering is the silver layer's job. What no layer can
store or process is rejected here, at the door, so that one record can never stop a partition or a day later:
integers beyond 64 bits, text that is not UTF-8 or holds NUL (PostgreSQL text cannot), text longer than its
limit (an index row has a size limit), and observation times outside 1940 … tomorrow (no partition holds them).
Timestamps are stored in one canonical form (`YYYY-MM-DDTHH:MM:SS[.ffffff]Z`) whatever ISO-8601 spelling
the producer used, so every reader (Spark included) parses them.
"""

from __future__ import annotations

import json
import math
import operator
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

SCHEMA_VERSION = 1
REQUIRED_FIELDS = ("city", "timestamp", "temperature")
TIMESTAMP_FIELDS = ("timestamp", "ingested_at", "sunrise", "sunset")
INT64_RANGE = (-(2**63), 2**63 - 1)
# Narrower ranges where a layer stores less than 64 bits (gold `timezone_offset` is an integer): ±18 h is the
# widest offset ISO-8601 allows.
INT_RANGES: dict[str, tuple[int, int]] = {"timezone_offset": (-18 * 3600, 18 * 3600)}
# Longest text per field, in characters. A city and a country are part of gold's unique index, whose rows
# PostgreSQL limits to about 2.7 kB: 200 characters are at most 800 bytes of UTF-8 each.
MAX_TEXT_CHARS: dict[str, int] = {"city": 200, "country": 64, "source": 64, "weather_icon": 16}
DEFAULT_MAX_TEXT_CHARS = 256
EARLIEST_OBSERVATION = datetime(1940, 1, 1, tzinfo=UTC)  # Open-Meteo's archive starts there: nothing older is real
MAX_FUTURE = timedelta(days=1)  # clock skew a producer may have; anything later is no observation
MAX_KEY_BYTES = 512


class InvalidObservation(ValueError):
    """A record that cannot be read as an observation; `reason` is what the dead-letter topic records."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """One weather observation in metric units; timestamps are ISO-8601 UTC strings ending in `Z`."""

    schema_version: int | None = SCHEMA_VERSION
    source: str | None = None
    city: str
    country: str | None = None
    city_id: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    timestamp: str
    ingested_at: str | None = None
    temperature: float
    feels_like: float | None = None
    temp_min: float | None = None
    temp_max: float | None = None
    pressure: int | None = None
    sea_level: int | None = None
    grnd_level: int | None = None
    humidity: int | None = None
    visibility: int | None = None
    wind_speed: float | None = None
    wind_deg: int | None = None
    wind_gust: float | None = None
    clouds: int | None = None
    rain_1h: float | None = None
    snow_1h: float | None = None
    weather_main: str | None = None
    weather_description: str | None = None
    weather_icon: str | None = None
    sunrise: str | None = None
    sunset: str | None = None
    timezone_offset: int | None = None


OBSERVATION_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Observation))
# The Python type each field holds (int, float or str), read from the annotations above.
_KINDS: dict[str, type] = {
    name: next(t for t in typing.get_args(hint) or (hint,) if t is not type(None))
    for name, hint in typing.get_type_hints(Observation).items()
}


def field_kind(name: str) -> type:
    """The Python type a contract field holds: int, float or str."""
    return _KINDS[name]


# The values of an observation in contract order (a tuple): what `to_json` writes and bronze stores.
field_values = operator.attrgetter(*OBSERVATION_FIELDS)
_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}

# Where each contract field lives in an OpenWeather current-weather payload.
_OPENWEATHER_PATHS = {
    "city": "name",
    "country": "sys.country",
    "city_id": "id",
    "latitude": "coord.lat",
    "longitude": "coord.lon",
    "temperature": "main.temp",
    "feels_like": "main.feels_like",
    "temp_min": "main.temp_min",
    "temp_max": "main.temp_max",
    "pressure": "main.pressure",
    "sea_level": "main.sea_level",
    "grnd_level": "main.grnd_level",
    "humidity": "main.humidity",
    "visibility": "visibility",
    "wind_speed": "wind.speed",
    "wind_deg": "wind.deg",
    "wind_gust": "wind.gust",
    "clouds": "clouds.all",
    "rain_1h": "rain.1h",
    "snow_1h": "snow.1h",
    "weather_main": "weather.0.main",
    "weather_description": "weather.0.description",
    "weather_icon": "weather.0.icon",
    "timezone_offset": "timezone",
}
_OPENWEATHER_EPOCHS = {"timestamp": "dt", "sunrise": "sys.sunrise", "sunset": "sys.sunset"}


def isoformat_utc(moment: datetime) -> str:
    """The one timestamp format of the contract: ISO-8601 in UTC with a `Z` suffix."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def from_openweather(payload: Any, *, source: str, ingested_at: datetime) -> Observation:
    """Map an OpenWeather current-weather payload to an observation, or raise InvalidObservation."""
    if not isinstance(payload, dict):
        raise InvalidObservation(f"expected a JSON object, got {_json_type(payload)}")
    record = {name: _lookup(payload, path) for name, path in _OPENWEATHER_PATHS.items()}
    for name, path in _OPENWEATHER_EPOCHS.items():
        record[name] = _epoch_to_iso(_lookup(payload, path), path)
    record.update(schema_version=SCHEMA_VERSION, source=source, ingested_at=isoformat_utc(ingested_at))
    return _build(record)


def to_json(obs: Observation) -> bytes:
    """Compact UTF-8 JSON with the fields in contract order (non-finite numbers are refused).

    orjson writes it in half the time of `json` (the producer's main cost per message, issue 16); the little it
    cannot write (integers beyond 64 bits) falls back to `json`, and text that is not UTF-8 fails in both."""
    values = field_values(obs)
    for value in values:
        if type(value) is float and not math.isfinite(value):  # orjson would write null
            raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
    record = dict(zip(OBSERVATION_FIELDS, values, strict=True))
    try:
        return orjson.dumps(record)
    except orjson.JSONEncodeError:
        return json.dumps(record, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def parse_observation(raw: bytes) -> Observation:
    """The consumer side: validate a Kafka value, or raise InvalidObservation saying why it is unusable."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:  # json.loads would guess UTF-16/32 from the bytes: the contract is UTF-8
        raise InvalidObservation(f"value is not UTF-8: {exc}") from None
    try:
        record = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidObservation(f"malformed JSON: {exc}") from None
    if not isinstance(record, dict):
        raise InvalidObservation(f"expected a JSON object, got {_json_type(record)}")
    return _build(record)


def kafka_key(obs: Observation) -> bytes:
    """The Kafka key `"<city>,<country>"`: all observations of one city land in one partition, in order."""
    return f"{obs.city},{obs.country or ''}".encode()


def check_key(raw: bytes | None) -> str | None:
    """The Kafka key as text (bronze and gold keep it for lineage), or InvalidObservation when no layer could
    store it: not UTF-8, a NUL byte, or longer than MAX_KEY_BYTES."""
    if raw is None:
        return None
    if len(raw) > MAX_KEY_BYTES:
        raise InvalidObservation(f"Kafka key of {len(raw)} bytes is longer than {MAX_KEY_BYTES}")
    try:
        key = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidObservation(f"Kafka key is not UTF-8: {exc}") from None
    if "\x00" in key:
        raise InvalidObservation("Kafka key contains a NUL byte")
    return key


def _build(record: dict[str, Any]) -> Observation:
    get = record.get
    values = {name: check(get(name)) for name, check in _FIELD_CHECKS}
    if values["schema_version"] is not None and values["schema_version"] > SCHEMA_VERSION:
        raise InvalidObservation(f"unsupported schema_version: {values['schema_version']}")
    return Observation(**values)


def _check(name: str, value: Any) -> Any:
    """The value of one field, typed as the contract says, or InvalidObservation."""
    if value is None or (name in REQUIRED_FIELDS and value == ""):
        if name in REQUIRED_FIELDS:
            raise InvalidObservation(f"missing required field: {name}")
        return None
    kind = _KINDS[name]
    if kind is str:
        if not isinstance(value, str):
            raise InvalidObservation(f"wrong type for {name}: expected string, got {_json_type(value)}")
        if name in TIMESTAMP_FIELDS:
            return _check_timestamp(name, value)
        return _check_text(name, value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidObservation(f"wrong type for {name}: expected number, got {_json_type(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the float range
        number = math.inf
    if not math.isfinite(number):
        raise InvalidObservation(f"non-finite number in {name}: {value}")
    if kind is int:
        if not number.is_integer():
            raise InvalidObservation(f"wrong type for {name}: expected integer, got {value}")
        integer = int(value)
        low, high = INT_RANGES.get(name, INT64_RANGE)
        if not low <= integer <= high:
            raise InvalidObservation(f"integer out of range in {name}: {_short(value)} (allowed {low} … {high})")
        return integer
    return number


def _fast_check(name: str) -> Callable[[Any], Any]:
    """`_check` of one field, with a fast path for the values producers send (a finite float, an in-range int, short
    ASCII text, a canonical timestamp): the bronze writer checks every field of every record (issue 16). Whatever
    the fast path does not take goes to `_check`, so both give the same value or the same error."""
    kind, required = _KINDS[name], name in REQUIRED_FIELDS

    def slow(value: Any) -> Any:
        return _check(name, value)

    if kind is float:

        def check(value: Any) -> Any:
            if type(value) is float and value - value == 0.0:  # finite: NaN and infinities give NaN
                return value
            return None if value is None and not required else slow(value)

    elif kind is int:
        low, high = INT_RANGES.get(name, INT64_RANGE)

        def check(value: Any) -> Any:
            if type(value) is int and low <= value <= high:
                return value
            return None if value is None and not required else slow(value)

    elif name in TIMESTAMP_FIELDS:

        def check(value: Any) -> Any:
            if type(value) is str and _CANONICAL_SECONDS.fullmatch(value):  # isoformat_utc would give it back
                try:
                    moment = datetime.fromisoformat(value)
                except ValueError:
                    return slow(value)
                if name != "timestamp" or EARLIEST_OBSERVATION <= moment <= datetime.now(UTC) + MAX_FUTURE:
                    return value
            return None if value is None and not required else slow(value)

    else:
        limit = MAX_TEXT_CHARS.get(name, DEFAULT_MAX_TEXT_CHARS)

        def check(value: Any) -> Any:
            if type(value) is str and value.isascii() and "\x00" not in value and 0 < len(value) <= limit:
                return value  # ASCII is valid UTF-8 (no lone surrogate)
            return None if value is None and not required else slow(value)

    return check


def _check_text(name: str, value: str) -> str:
    """Text every layer can store: valid UTF-8 (no lone surrogate), no NUL, within its length limit."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidObservation(f"text in {name} is not valid Unicode (a lone surrogate)") from None
    if "\x00" in value:
        raise InvalidObservation(f"text in {name} contains a NUL character")
    limit = MAX_TEXT_CHARS.get(name, DEFAULT_MAX_TEXT_CHARS)
    if len(value) > limit:
        raise InvalidObservation(f"text in {name} has {len(value)} characters, more than {limit}")
    return value


def _check_timestamp(name: str, value: str) -> str:
    """The canonical spelling of an ISO-8601 UTC instant; the observation time must also be one a day holds."""
    try:
        moment = datetime.fromisoformat(value) if len(value) <= 64 else None
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() != timedelta(0):
        raise InvalidObservation(f"invalid timestamp in {name}: {_short(value)!r} (expected ISO-8601 UTC)")
    if name == "timestamp":
        latest = datetime.now(UTC) + MAX_FUTURE
        if not EARLIEST_OBSERVATION <= moment <= latest:
            raise InvalidObservation(
                f"observation time {value!r} is outside {EARLIEST_OBSERVATION:%Y-%m-%d} … {latest:%Y-%m-%d} "
                "(before any weather archive, or in the future)"
            )
    return isoformat_utc(moment)


# `YYYY-MM-DDTHH:MM:SSZ`, the canonical spelling of a whole second (ASCII digits only).
_CANONICAL_SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", re.ASCII)
_FIELD_CHECKS: tuple[tuple[str, Callable[[Any], Any]], ...] = tuple((n, _fast_check(n)) for n in OBSERVATION_FIELDS)


def _short(value: Any, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _lookup(payload: dict[str, Any], path: str) -> Any:
    """The value at a dotted OpenWeather path such as `weather.0.main`; None when absent."""
    node: Any = payload
    parts = path.split(".")
    for depth, part in enumerate(parts):
        if node is None:
            return None
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit():
            node = node[int(part)] if int(part) < len(node) else None
        else:
            raise InvalidObservation(f"wrong type for {'.'.join(parts[:depth])}: got {_json_type(node)}")
    return node


def _epoch_to_iso(value: Any, path: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidObservation(f"wrong type for {path}: expected epoch seconds, got {_json_type(value)}")
    try:
        return isoformat_utc(datetime.fromtimestamp(value, tz=UTC))
    except (OverflowError, OSError, ValueError):
        raise InvalidObservation(f"invalid epoch seconds in {path}: {value}") from None


def _json_type(value: Any) -> str:
    return "null" if value is None else _JSON_TYPES.get(type(value), type(value).__name__)
