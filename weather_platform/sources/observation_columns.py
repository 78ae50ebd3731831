"""The observation contract checked a batch at a time, column by column: the bronze writer's fast path (issue 16).

`parse_observation` checks one record field by field in Python (~25 µs a record); here a batch of Kafka values is
parsed into Arrow arrays at once and each field is checked with Arrow's vectorised functions. The batch is read by
Arrow's JSON reader (C++, outside the GIL: the bronze writer parses on its writer thread while its consumer polls)
when it can vouch for the batch as a whole: one JSON object a line, exactly the contract's fields, each of its type;
any other batch is parsed with orjson and converted by Arrow, value by value when it must. The fast path
only *accepts*: a record it accepts is one `parse_observation` accepts, with the same values (a property test holds
the two together on hostile inputs); every other record — not JSON to orjson, a missing required field, a value of
an unusual type or spelling, anything out of range — is left to `parse_observation`, which gives its canonical value
or the reason it is refused. So the path may be as conservative as it likes, never more permissive.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, reduce
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

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


# Every field as Arrow reads or converts it in one pass; integers as float64 (checked whole and in range, then
# cast), since Arrow's int64 conversion would truncate a fractional number where `parse_observation` refuses it.
_LENIENT = pa.struct([(n, pa.float64() if field_kind(n) is int else ARROW_TYPES[n]) for n in OBSERVATION_FIELDS])
_CONVERSION_ERRORS = (pa.ArrowException, ValueError, TypeError, OverflowError)


@dataclass(frozen=True)
class ObservationColumns:
    """A batch's fields as Arrow arrays (contract order and types) and `accepted`: the rows the fast path proved
    valid. The arrays hold those rows' values as `parse_observation` would give them; other rows hold anything."""

    arrays: dict[str, pa.Array]
    accepted: pa.BooleanArray
    observed_at: pa.TimestampArray  # `timestamp` as an instant (UTC), for the event day of accepted rows


_ACCEPTED, _OBSERVED_AT, _PARSED = "_accepted", "_observed_at", "_parsed"


def observation_columns(values: Sequence[bytes], now: datetime | None = None) -> ObservationColumns:
    """Parse and check a batch of Kafka values column by column (`now`: the clock for the future bound).

    The checks are one Arrow projection (`_checks`) evaluated in one call outside the GIL: a thread parsing beside
    a busy Python thread gets the GIL back once a batch, not once per check (hundreds of waits of 5 ms)."""
    latest = (now or datetime.now(UTC)) + MAX_FUTURE
    table = _read_json(values)
    read_by_arrow = table is not None
    if table is None:
        table = _loaded(values)
    try:
        checked = _project(table, _checks(table, read_by_arrow, latest, instants=None))
    except pa.ArrowInvalid:  # an impossible date or time in the canonical shape: such instants are cast one by one
        instants = {name: _canonical_instants(table.column(name).combine_chunks()) for name in TIMESTAMP_FIELDS}
        for name, column in instants.items():
            table = table.append_column(f"_instant_{name}", column)
        checked = _project(table, _checks(table, read_by_arrow, latest, instants=instants))
    arrays = {name: checked.column(name).combine_chunks() for name in OBSERVATION_FIELDS}
    accepted = checked.column(_ACCEPTED).combine_chunks()
    return ObservationColumns(arrays, accepted, checked.column(_OBSERVED_AT).combine_chunks())


def _project(table: pa.Table, expressions: dict[str, pc.Expression]) -> pa.Table:
    """`expressions` evaluated over `table` in one Acero plan, rows in order. Acero is imported here, by the first
    batch: its import brings pandas (≈ 40 MB, 0.3 s) into every process that imports the definitions otherwise."""
    import pyarrow.acero as acero

    plan = acero.Declaration.from_sequence(
        [
            acero.Declaration("table_source", acero.TableSourceNodeOptions(table)),
            acero.Declaration("project", acero.ProjectNodeOptions(list(expressions.values()), list(expressions))),
        ]
    )
    return plan.to_table(use_threads=False)


def _checks(
    table: pa.Table, read_by_arrow: bool, latest: datetime, instants: dict[str, pa.Array] | None
) -> dict[str, pc.Expression]:
    """Each field's value as the contract gives it, `_accepted` (the rows every check vouches for) and
    `_observed_at`, as expressions over `table`: the fields, and for a batch parsed by orjson `_parsed` and each
    field's `_fits_<name>` (where its value is of the field's type); `instants`: the timestamp fields already cast
    (`_instant_<name>` columns), else the expressions cast them."""
    true = pc.scalar(True)
    names = set(table.column_names)
    masks = [pc.field(_PARSED) if _PARSED in names else true]
    values: dict[str, pc.Expression] = {}
    observed_at: pc.Expression = pc.scalar(pa.scalar(None, _INSTANT))
    for name in OBSERVATION_FIELDS:
        value = pc.field(name)
        fits = pc.field(f"_fits_{name}") if f"_fits_{name}" in names else true
        kind = field_kind(name)
        if kind is int and table.schema.field(name).type == pa.float64():
            fits = fits & _absent_or(value, _whole(name, value))
            value = pc.if_else(fits, value, pc.scalar(pa.scalar(None, pa.float64()))).cast(pa.int64())
        elif kind is float and read_by_arrow:  # an integer spelling read as a float is exact below 2**53
            negative_zero = (value == 0.0) & (pc.divide(pc.scalar(1.0), value) < 0.0)
            fits = fits & _absent_or(value, (pc.abs(value) < float(_EXACT_FLOAT_INT)) & ~negative_zero)
        masks.append(_valid(name, value, fits))
        if name in TIMESTAMP_FIELDS:
            instant = pc.field(f"_instant_{name}") if instants is not None else _canonical_instant(value)
            masks.append(_absent_or(value, pc.is_valid(instant)))
            if name == "timestamp":
                observed_at = instant
                bounds = pa.scalar(EARLIEST_OBSERVATION, _INSTANT), pa.scalar(latest, _INSTANT)
                masks.append((instant >= pc.scalar(bounds[0])) & (instant <= pc.scalar(bounds[1])))
        values[name] = value
    version = values["schema_version"]
    masks.append(_absent_or(version, version <= SCHEMA_VERSION))
    return {**values, _ACCEPTED: _all(masks), _OBSERVED_AT: observed_at}


def _loaded(values: Sequence[bytes]) -> pa.Table:
    """The fields parsed by orjson and converted by Arrow (field by field when Arrow refuses the batch), with where
    each field's value is of its type (`_fits_<name>`) and where the value is a JSON object (`_parsed`)."""
    try:  # every value is JSON
        loaded = [orjson.loads(value) for value in values]
    except orjson.JSONDecodeError:
        loaded = [_loads_or_none(value) for value in values]
    parsed = [type(record) is dict for record in loaded]
    records = loaded if all(parsed) else [r if ok else _EMPTY for r, ok in zip(loaded, parsed, strict=True)]
    fields = _converted(records, values) or _field_by_field(records)
    columns = {name: array for name, (array, _) in fields.items()}
    columns |= {f"_fits_{name}": fits for name, (_, fits) in fields.items()}
    return pa.table({**columns, _PARSED: pa.array(parsed, pa.bool_())})


# Arrow's JSON reader with the contract's fields and types: a field of another name or JSON type, a key twice, or
# anything not JSON fails the whole batch (which then goes the orjson way); so does text that is not UTF-8.
_JSON_PARSE = pa_json.ParseOptions(
    explicit_schema=pa.schema(list(_LENIENT)),
    unexpected_field_behavior="error",
)
_JSON_BATCH_LIMIT = 1 << 30  # Arrow reads a batch as one block


def _read_json(values: Sequence[bytes]) -> pa.Table | None:
    """The fields read by Arrow's JSON reader from the batch joined into lines; None when the reader cannot vouch for
    the batch. Each value must be one line starting with `{` (a line then holds at least one object, and as many
    rows as values means exactly one each: a value can never take its neighbour's row). Where Arrow and
    `json.loads` may differ, `_checks` does not vouch for the value: a NaN or infinity (the finite checks), `-0`
    (Arrow reads it as the float -0.0, `json.loads` as the integer 0), a number of 2**53 or more (an integer
    spelling that `json.loads` keeps exact, Arrow rounds)."""
    joined = b"\n".join(values)
    if (
        not values
        or len(joined) > _JSON_BATCH_LIMIT
        or joined.count(b"\n") != len(values) - 1
        or b"\r" in joined
        or not all(value[:1] == b"{" for value in values)
    ):
        return None
    block = max(1 << 20, len(joined) + 1)
    try:
        table = pa_json.read_json(
            io.BytesIO(joined),
            read_options=pa_json.ReadOptions(use_threads=False, block_size=block),
            parse_options=_JSON_PARSE,
        )
        for name in _TEXT_FIELDS:  # the reader copies raw bytes and writes a lone surrogate's escape as such
            table.column(name).validate(full=True)
    except (pa.ArrowException, ValueError):  # UnicodeDecodeError is a ValueError
        return None
    return table if table.num_rows == len(values) else None


_TEXT_FIELDS = [name for name in OBSERVATION_FIELDS if field_kind(name) is str]


def _whole(name: str, value: pc.Expression) -> pc.Expression:
    """An integer field read as float64: whole, finite and in range (and exactly a float)."""
    low, high = INT_RANGES.get(name, INT64_RANGE)
    low, high = max(low, 1 - _EXACT_FLOAT_INT), min(high, _EXACT_FLOAT_INT - 1)  # 2**53 + 1 is read as 2**53
    return pc.is_finite(value) & (value == pc.trunc(value)) & (value >= float(low)) & (value <= float(high))


def _loads_or_none(value: bytes) -> Any:
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return None


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
    return {name: (struct.field(index), no_boolean) for index, name in enumerate(OBSERVATION_FIELDS)}


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


def _valid(name: str, value: pc.Expression, fits: pc.Expression) -> pc.Expression:
    """Where the field's value is one `parse_observation` gives back unchanged: of the right type (`fits`), present
    when required, finite, and for text within its length, without NUL and not empty when required. Never null."""
    kind, required = field_kind(name), name in REQUIRED_FIELDS
    masks = [fits, pc.is_valid(value) if required else pc.scalar(True)]
    if kind is float:
        masks.append(_absent_or(value, pc.is_finite(value)))  # orjson reads 1e999 as infinity
    elif kind is str and name not in TIMESTAMP_FIELDS:
        limit = MAX_TEXT_CHARS.get(name, DEFAULT_MAX_TEXT_CHARS)
        length = pc.utf8_length(value)
        masks.append(_absent_or(value, length <= limit))
        masks.append(_absent_or(value, ~pc.match_substring(value, "\x00")))
        if required:
            masks.append(_absent_or(value, length > 0))
    return _all(masks)


def _absent_or(value: pc.Expression, condition: pc.Expression) -> pc.Expression:
    """True where the value is absent (null), else the condition (false where the condition is null)."""
    return pc.is_null(value) | pc.coalesce(condition, pc.scalar(False))


def _all(masks: list[pc.Expression]) -> pc.Expression:
    """True where every mask is true; a null anywhere counts as false (the fast path then vouches for nothing)."""
    return reduce(lambda a, b: a & b, (pc.coalesce(mask, pc.scalar(False)) for mask in masks))


def _shaped(text: Any) -> Any:
    """Where a timestamp is spelled exactly as `isoformat_utc` spells it, `YYYY-MM-DDTHH:MM:SSZ` or
    `YYYY-MM-DDTHH:MM:SS.ffffffZ` (microseconds not all zero); for an array or an expression alike."""
    return pc.and_kleene(pc.match_substring_regex(text, _CANONICAL_SHAPE), pc.invert(pc.ends_with(text, ".000000Z")))


def _canonical_instant(text: pc.Expression) -> pc.Expression:
    """The instant (UTC, microseconds) of a timestamp in the canonical spelling (`_shaped`) of a calendar date of year
    0001 or later; null for any other spelling. Arrow's ISO-8601 cast refuses an impossible date or time (February
    30th, hour 24, second 60) by failing the whole projection: `observation_columns` then casts value by value."""
    candidate = pc.if_else(pc.coalesce(_shaped(text), pc.scalar(False)), text, pc.scalar(pa.scalar(None, pa.string())))
    instant = candidate.cast(_INSTANT)
    first, missing = _instant_bounds()
    return pc.if_else(pc.coalesce(instant >= pc.scalar(first), pc.scalar(False)), instant, pc.scalar(missing))


def _canonical_instants(text: pa.Array) -> pa.Array:
    """`_canonical_instant` of each value, cast one by one where a batch's cast fails."""
    candidates = pc.if_else(pc.fill_null(_shaped(text), False), text, pa.scalar(None, pa.string()))
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
