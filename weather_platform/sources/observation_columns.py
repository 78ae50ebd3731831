"""The observation contract checked a batch at a time, column by column: the bronze writer's fast path (issue 16).

`parse_observation` checks one record field by field in Python (~25 µs a record); here a batch of Kafka values is
parsed with orjson and each field becomes one Arrow array checked with Arrow's vectorised functions. The fast path
only *accepts*: a record it accepts is one `parse_observation` accepts, with the same values (a property test holds
the two together on hostile inputs); every other record — not JSON to orjson, a missing required field, a value of
an unusual type or spelling, anything out of range — is left to `parse_observation`, which gives its canonical value
or the reason it is refused. So the path may be as conservative as it likes, never more permissive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, reduce
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from weather_platform.schema import OBSERVATION
from weather_platform.sources.observation import (
    DEFAULT_MAX_TEXT_CHARS,
    EARLIEST_OBSERVATION,
    INT64_RANGE,
    INT_RANGES,
    MAX_FUTURE,
    MAX_TEXT_CHARS,
    OBSERVATION_FIELDS,
    REQUIRED_FIELDS,
    SCHEMA_VERSION,
    TIMESTAMP_FIELDS,
    field_kind,
)

ARROW_TYPES: dict[str, pa.DataType] = {c.name: c.bronze for c in OBSERVATION if c.bronze is not None}
# An int stands for a float exactly up to 2**53: beyond, the record goes to `parse_observation` (float() rounds).
_EXACT_FLOAT_INT = 2**53
_EMPTY: dict[str, Any] = {}
_INSTANT = pa.timestamp("us", tz="UTC")
_CANONICAL_SHAPE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?Z$"


@dataclass(frozen=True)
class ObservationColumns:
    """A batch's fields as Arrow arrays (contract order and types) and `accepted`: the rows the fast path proved
    valid. The arrays hold those rows' values as `parse_observation` would give them; other rows hold anything."""

    arrays: dict[str, pa.Array]
    accepted: pa.BooleanArray
    observed_at: pa.TimestampArray  # `timestamp` as an instant (UTC), for the event day of accepted rows


def observation_columns(values: Sequence[bytes], now: datetime | None = None) -> ObservationColumns:
    """Parse and check a batch of Kafka values column by column (`now`: the clock for the future bound)."""
    latest = (now or datetime.now(UTC)) + MAX_FUTURE
    try:  # the usual batch: every value is JSON
        loaded = [orjson.loads(value) for value in values]
    except orjson.JSONDecodeError:
        loaded = [_loads_or_none(value) for value in values]
    parsed = [type(record) is dict for record in loaded]
    records = loaded if all(parsed) else [r if ok else _EMPTY for r, ok in zip(loaded, parsed, strict=True)]
    fields = _converted(records, values) or _field_by_field(records)
    masks: list[pa.Array] = [pa.array(parsed, pa.bool_())]
    arrays: dict[str, pa.Array] = {}
    observed_at = pa.nulls(len(records), _INSTANT)
    for name, (array, fits) in fields.items():
        masks.append(_valid(name, array, fits))
        if name in TIMESTAMP_FIELDS:
            instants = _canonical_instants(array)
            masks.append(_absent_or(array, pc.is_valid(instants)))
            if name == "timestamp":
                observed_at = instants
                bounds = pa.scalar(EARLIEST_OBSERVATION, instants.type), pa.scalar(latest, instants.type)
                in_bounds = pc.and_(pc.greater_equal(instants, bounds[0]), pc.less_equal(instants, bounds[1]))
                masks.append(pc.fill_null(in_bounds, False))
        arrays[name] = array
    version = arrays["schema_version"]
    masks.append(_absent_or(version, pc.less_equal(version, SCHEMA_VERSION)))
    accepted = _all(masks)
    return ObservationColumns(arrays, accepted, observed_at)


def _loads_or_none(value: bytes) -> Any:
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return None


# Every field as Arrow converts it in one pass; integers as float64 (checked whole and in range, then cast), since
# Arrow's int64 conversion would truncate a fractional number where `parse_observation` refuses it.
_LENIENT = pa.struct([(n, pa.float64() if field_kind(n) is int else ARROW_TYPES[n]) for n in OBSERVATION_FIELDS])
_CONVERSION_ERRORS = (pa.ArrowException, ValueError, TypeError, OverflowError)


def _converted(records: list[dict[str, Any]], values: Sequence[bytes]) -> dict[str, tuple[pa.Array, pa.Array]] | None:
    """Each field as (array, where its value may be vouched for), converted by Arrow in one pass; None when Arrow
    refuses the batch (a value of the wrong type somewhere), which then goes field by field.

    Arrow reads a boolean as a number, so a record holding `true` or `false` anywhere is not vouched for here.
    """
    try:
        struct = pa.array(records, _LENIENT)
    except _CONVERSION_ERRORS:
        return None
    joined = b"\n".join(values)  # one search of the batch in the usual case of no boolean at all
    if b"true" in joined or b"false" in joined:
        no_boolean = pa.array([b"true" not in v and b"false" not in v for v in values], pa.bool_())
    else:
        no_boolean = pa.array([True] * len(values), pa.bool_())
    fields: dict[str, tuple[pa.Array, pa.Array]] = {}
    for index, name in enumerate(OBSERVATION_FIELDS):
        array = struct.field(index)
        fits = no_boolean
        if field_kind(name) is int:
            low, high = INT_RANGES.get(name, INT64_RANGE)
            low, high = max(low, -_EXACT_FLOAT_INT), min(high, _EXACT_FLOAT_INT)
            whole = pc.and_(pc.is_finite(array), pc.equal(array, pc.trunc(array)))
            in_range = pc.and_(pc.greater_equal(array, float(low)), pc.less_equal(array, float(high)))
            fits = pc.and_(fits, _absent_or(array, pc.and_(whole, in_range)))
            array = pc.if_else(fits, array, pa.scalar(None, pa.float64())).cast(pa.int64())
        fields[name] = (array, fits)
    return fields


def _field_by_field(records: list[dict[str, Any]]) -> dict[str, tuple[pa.Array, pa.Array]]:
    """Each field as (array, where its value may be vouched for), screened value by value in Python: a value of
    another type or out of range is set to null in the array and marked false."""
    fields: dict[str, tuple[pa.Array, pa.Array]] = {}
    for name in OBSERVATION_FIELDS:
        column = [record.get(name) for record in records]
        kind = field_kind(name)
        if kind is float:
            limit = _EXACT_FLOAT_INT
            fits = [type(v) is float or (type(v) is int and -limit <= v <= limit) or v is None for v in column]
        elif kind is int:
            low, high = INT_RANGES.get(name, INT64_RANGE)
            fits = [(type(v) is int and low <= v <= high) or v is None for v in column]
        else:
            fits = [type(v) is str or v is None for v in column]
        if not all(fits):
            column = [v if ok else None for v, ok in zip(column, fits, strict=True)]
        try:
            fields[name] = (pa.array(column, ARROW_TYPES[name]), pa.array(fits, pa.bool_()))
        except _CONVERSION_ERRORS:  # e.g. a lone surrogate: parse_observation says why
            fields[name] = (pa.nulls(len(column), ARROW_TYPES[name]), pa.array([False] * len(column), pa.bool_()))
    return fields


def _valid(name: str, array: pa.Array, fits: pa.Array) -> pa.Array:
    """Where the field's value is one `parse_observation` gives back unchanged: of the right type (`fits`), present
    when required, finite, and for text within its length, without NUL and not empty when required. Never null."""
    kind, required = field_kind(name), name in REQUIRED_FIELDS
    masks = [fits, pc.is_valid(array) if required else pa.array([True] * len(array), pa.bool_())]
    if kind is float:
        masks.append(_absent_or(array, pc.is_finite(array)))  # orjson reads 1e999 as infinity
    elif kind is str and name not in TIMESTAMP_FIELDS:
        limit = MAX_TEXT_CHARS.get(name, DEFAULT_MAX_TEXT_CHARS)
        length = pc.utf8_length(array)
        masks.append(_absent_or(array, pc.less_equal(length, limit)))
        masks.append(_absent_or(array, pc.invert(pc.match_substring(array, "\x00"))))
        if required:
            masks.append(_absent_or(array, pc.greater(length, 0)))
    return _all(masks)


def _absent_or(array: pa.Array, condition: pa.Array) -> pa.Array:
    """True where the value is absent (null), else the condition (false where the condition is null)."""
    return pc.or_kleene(pc.is_null(array), pc.fill_null(condition, False))


def _all(masks: list[pa.Array]) -> pa.Array:
    """True where every mask is true; a null anywhere counts as false (the fast path then vouches for nothing)."""
    return reduce(pc.and_, (pc.fill_null(mask, False) for mask in masks))


def _canonical_instants(text: pa.Array) -> pa.Array:
    """The instants (UTC, microseconds) of timestamps spelled exactly as `isoformat_utc` spells them,
    `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.ffffffZ` (microseconds not all zero), a calendar date of year
    0001 or later; null for any other spelling.

    The shape is matched first; Arrow's ISO-8601 cast then refuses impossible dates and times (February 30th, hour
    24, second 60) by failing the whole array, in which case each value is checked by `_instants_one_by_one`.
    """
    shaped = pc.and_(pc.match_substring_regex(text, _CANONICAL_SHAPE), pc.invert(pc.ends_with(text, ".000000Z")))
    candidates = pc.if_else(pc.fill_null(shaped, False), text, pa.scalar(None, pa.string()))
    try:
        instants = candidates.cast(_INSTANT)
    except pa.ArrowInvalid:
        instants = _instants_one_by_one(candidates)
    first, missing = _instant_bounds()
    return pc.if_else(pc.fill_null(pc.greater_equal(instants, first), False), instants, missing)


def prepare() -> None:
    """Load now what the first batch would load: Arrow's first conversion of Python values imports pandas (0.3 to
    0.7 s), which a long-lived consumer should pay when it starts, not inside its first batch."""
    _instant_bounds()


@cache
def _instant_bounds() -> tuple[pa.Scalar, pa.Scalar]:
    """The earliest instant the contract spells (year 1) and a missing one. Made on first use: making an Arrow
    timestamp scalar imports pandas, which the processes that only import the definitions (the code server) do not
    need."""
    return pa.scalar(datetime(1, 1, 1, tzinfo=UTC), _INSTANT), pa.scalar(None, _INSTANT)


def _instants_one_by_one(candidates: pa.Array) -> pa.Array:
    """`candidates` cast value by value: null where Arrow refuses one."""
    instants = []
    for index in range(len(candidates)):
        try:
            instants.append(candidates.slice(index, 1).cast(_INSTANT))
        except pa.ArrowInvalid:
            instants.append(pa.nulls(1, _INSTANT))
    return pa.concat_arrays(instants) if instants else pa.nulls(0, _INSTANT)
