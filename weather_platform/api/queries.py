"""What the REST API and the dashboard read from gold: parameterised SQL over the analyst views (docs/DESIGN.md §4.5).

Plain functions over a psycopg connection of the read-only role, so they are tested without a web server. Pages are
keyset-paginated: a cursor is the last row's sort key, so a page costs the same wherever it starts and rows loaded
meanwhile never shift a page. Bad input raises `BadQuery` naming the parameter; nothing here writes.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

MAX_PAGE = 1000
DEFAULT_PAGE = 100
# The widest range one request may ask for: a year of hourly rows per city, ten years of daily ones.
MAX_RANGE = {"observations": timedelta(days=366), "hourly": timedelta(days=366), "daily": timedelta(days=3660)}
# Gold freshness thresholds (the gold freshness check uses the same): WARN past 2 h, ERROR past 6 h.
FRESHNESS_WARN = timedelta(hours=2)
FRESHNESS_ERROR = timedelta(hours=6)

OBSERVATION_COLUMNS = (
    "city", "country", "timestamp", "temperature", "feels_like_c", "humidity", "dew_point", "pressure", "wind_speed",
    "wind_gust", "wind_deg", "clouds", "visibility", "rain_1h", "snow_1h", "heat_index", "wind_chill",
    "weather_main", "weather_description",
)  # fmt: skip
# Rounded as in v_weather_latest (docs/DESIGN.md §4.5): the instruments' precision.
_ROUNDING = {
    "temperature": 1, "feels_like_c": 1, "humidity": 0, "dew_point": 1, "pressure": 1, "wind_speed": 1,
    "wind_gust": 1, "wind_deg": 0, "clouds": 0, "visibility": 0, "rain_1h": 1, "snow_1h": 1, "heat_index": 1,
    "wind_chill": 1,
}  # fmt: skip


class BadQuery(ValueError):
    """A request the API refuses: `parameter` names what to fix, `status` is the HTTP status to answer with."""

    def __init__(self, parameter: str, message: str, status: int = 422) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Filters:
    """Validated filters of a list request: start inclusive, end exclusive, both UTC."""

    city: str | None
    country: str | None
    start: datetime
    end: datetime
    limit: int
    cursor: tuple[Any, ...] | None


@dataclass(frozen=True)
class Page:
    data: list[dict[str, Any]]
    next_cursor: str | None


def parse_moment(value: str, parameter: str) -> datetime | date:
    """An ISO-8601 date (`2026-03-14`) or date-time (`2026-03-14T06:00:00Z`; no zone means UTC), else BadQuery."""
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadQuery(
            parameter, f"{value!r} is not an ISO-8601 date or date-time (e.g. 2026-03-14 or 2026-03-14T06:00Z)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def as_utc(moment: datetime | date) -> datetime:
    """A date is its UTC midnight; a datetime without a zone is UTC."""
    if not isinstance(moment, datetime):
        return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def filters(
    kind: str,
    *,
    city: str | None,
    country: str | None,
    start: str | None,
    end: str | None,
    limit: int | None,
    cursor: str | None,
    now: datetime,
) -> Filters:
    """Check a list request's parameters: the range (default: the last 7 days), its cap, the page size, the cursor.

    A date as `end` includes that whole day.
    """
    end_moment = parse_moment(end, "end") if end else None
    start_moment = parse_moment(start, "start") if start else None
    end_utc = as_utc(end_moment) if end_moment is not None else now
    if end_moment is not None and not isinstance(end_moment, datetime):
        end_utc += timedelta(days=1)
    start_utc = as_utc(start_moment) if start_moment is not None else end_utc - timedelta(days=7)
    if end_utc <= start_utc:
        raise BadQuery("end", f"end ({end_utc.isoformat()}) must be after start ({start_utc.isoformat()})")
    if end_utc - start_utc > MAX_RANGE[kind]:
        raise BadQuery("end", f"the range may span at most {MAX_RANGE[kind].days} days for {kind}")
    size = DEFAULT_PAGE if limit is None else limit
    if not 1 <= size <= MAX_PAGE:
        raise BadQuery("limit", f"must be between 1 and {MAX_PAGE}")
    return Filters(city, country, start_utc, end_utc, size, decode_cursor(cursor) if cursor else None)


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, date | datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, ...]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadQuery("cursor", "not a cursor this API returned: pass next_cursor as it came") from exc
    shaped = isinstance(values, list) and len(values) == 3 and all(isinstance(v, str) for v in values)
    if not shaped or any("\x00" in v for v in values):
        raise BadQuery("cursor", "not a cursor this API returned: pass next_cursor as it came")
    try:  # its first value is the last row's date or time: a forged one must not reach PostgreSQL's cast
        parse_moment(values[0], "cursor")
    except BadQuery:
        raise BadQuery("cursor", "not a cursor this API returned: pass next_cursor as it came") from None
    return tuple(values)


def _connect_rows(conn: psycopg.Connection[Any]) -> psycopg.Cursor[dict[str, Any]]:
    return conn.cursor(row_factory=dict_row)


def city_list(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Every (city, country) in gold, from the daily aggregates (one row a city-day, not a scan of every reading)."""
    with _connect_rows(conn) as cur:
        return cur.execute(
            "SELECT DISTINCT city, country FROM gold_weather_daily_aggregates ORDER BY city, country NULLS FIRST"
        ).fetchall()


def known_city(conn: psycopg.Connection[Any], city: str, country: str | None) -> None:
    """BadQuery (404) unless gold has that city, listing the cities it has."""
    row = conn.execute(
        "SELECT 1 FROM gold_weather_daily_aggregates WHERE city = %s AND (%s::text IS NULL OR country = %s) LIMIT 1",
        (city, country, country),
    ).fetchone()
    if row is None:
        names = [f"{c['city']},{c['country']}" if c["country"] else c["city"] for c in city_list(conn)]
        where = f"{city},{country}" if country else city
        raise BadQuery("city", f"no observations of {where!r} in gold; cities: {', '.join(names) or 'none yet'}", 404)


def _place(f: Filters) -> tuple[sql.Composable, list[Any]]:
    clauses: list[sql.Composable] = []
    params: list[Any] = []
    if f.city is not None:
        clauses.append(sql.SQL("city = %s"))
        params.append(f.city)
    if f.country is not None:
        clauses.append(sql.SQL("country = %s"))
        params.append(f.country)
    return sql.SQL(" AND ").join(clauses or [sql.SQL("TRUE")]), params


def _page(rows: list[dict[str, Any]], limit: int, key: tuple[str, str, str]) -> Page:
    if len(rows) <= limit:
        return Page(rows, None)
    last = rows[limit - 1]
    return Page(rows[:limit], encode_cursor([last[key[0]], last[key[1]], last[key[2]] or ""]))


def observations(conn: psycopg.Connection[Any], f: Filters) -> Page:
    """Detailed observations in time order, rounded like the analyst views."""
    place, params = _place(f)
    columns = sql.SQL(", ").join(
        sql.SQL("round({c}::numeric, {d}) AS {c}").format(c=sql.Identifier(c), d=sql.Literal(_ROUNDING[c]))
        if c in _ROUNDING
        else sql.Identifier(c)
        for c in OBSERVATION_COLUMNS
    )
    after: sql.Composable = sql.SQL("TRUE")
    if f.cursor:
        after = sql.SQL("(\"timestamp\", city, coalesce(country, '')) > (%s::timestamptz, %s, %s)")
        params += list(f.cursor)
    query = sql.SQL(
        'SELECT {columns} FROM gold_weather_detailed WHERE date BETWEEN %s AND %s AND "timestamp" >= %s '
        'AND "timestamp" < %s AND {place} AND {after} ORDER BY "timestamp", city, coalesce(country, \'\') LIMIT %s'
    ).format(columns=columns, place=place, after=after)
    day_range = [f.start.date(), f.end.date()]
    with _connect_rows(conn) as cur:
        rows = cur.execute(query, [*day_range, f.start, f.end, *params, f.limit + 1]).fetchall()
    return _page(rows, f.limit, ("timestamp", "city", "country"))


def daily(conn: psycopg.Connection[Any], f: Filters) -> Page:
    """v_weather_daily_trend rows for the days in [start, end)."""
    return _view_page(
        conn, f, "v_weather_daily_trend", "date", f.start.date(), (f.end - timedelta(microseconds=1)).date()
    )


def hourly(conn: psycopg.Connection[Any], f: Filters) -> Page:
    """v_weather_hourly rows for the hours starting in [start, end)."""
    return _view_page(conn, f, "v_weather_hourly", "hour_start", f.start, f.end - timedelta(microseconds=1))


def _view_page(conn: psycopg.Connection[Any], f: Filters, view: str, time_column: str, low: Any, high: Any) -> Page:
    place, params = _place(f)
    after: sql.Composable = sql.SQL("TRUE")
    if f.cursor:
        cast = sql.SQL("date") if time_column == "date" else sql.SQL("timestamptz")
        after = sql.SQL("({t}, city, coalesce(country, '')) > (%s::{cast}, %s, %s)").format(
            t=sql.Identifier(time_column), cast=cast
        )
        params += list(f.cursor)
    query = sql.SQL(
        "SELECT * FROM {view} WHERE {t} BETWEEN %s AND %s AND {place} AND {after} "
        "ORDER BY {t}, city, coalesce(country, '') LIMIT %s"
    ).format(view=sql.Identifier(view), t=sql.Identifier(time_column), place=place, after=after)
    with _connect_rows(conn) as cur:
        rows = cur.execute(query, [low, high, *params, f.limit + 1]).fetchall()
    return _page(rows, f.limit, (time_column, "city", "country"))


def latest(conn: psycopg.Connection[Any], now: datetime) -> list[dict[str, Any]]:
    """Each city's newest observation (v_weather_latest) with its freshness: ok, warn (past 2 h) or stale (6 h)."""
    with _connect_rows(conn) as cur:
        rows = cur.execute("SELECT * FROM v_weather_latest ORDER BY city, country").fetchall()
    for row in rows:
        age = now - row["timestamp"]
        row["age_minutes"] = round(age.total_seconds() / 60)
        row["freshness"] = "stale" if age > FRESHNESS_ERROR else "warn" if age > FRESHNESS_WARN else "ok"
    return rows


def cities(conn: psycopg.Connection[Any], now: datetime) -> list[dict[str, Any]]:
    """Every city in gold with its coordinates, first and last observation and its latest reading."""
    with _connect_rows(conn) as cur:
        spans = cur.execute(
            "SELECT city, country, min(date) AS first_date, max(date) AS last_date "
            "FROM gold_weather_daily_aggregates GROUP BY city, country"
        ).fetchall()
    first = {(r["city"], r["country"]): r for r in spans}
    out = []
    for row in latest(conn, now):
        span = first.get((row["city"], row["country"]), {})
        out.append(
            {
                "city": row["city"],
                "country": row["country"],
                "latitude": row["latitude"],
                "longitude": row["longitude"],
                "first_date": span.get("first_date"),
                "last_observation": row["timestamp"],
                "latest": {k: v for k, v in row.items() if k not in ("city", "country", "latitude", "longitude")},
            }
        )
    return out


def quality(conn: psycopg.Connection[Any], f: Filters, now: datetime) -> list[dict[str, Any]]:
    """Per city and day: observations, hours observed against the hours expected so far, and the newest's age."""
    place, params = _place(f)
    query = sql.SQL(
        "SELECT city, country, date, count(*) AS observation_count, count(DISTINCT hour) AS hours_observed, "
        'max("timestamp") AS newest FROM gold_weather_detailed WHERE date BETWEEN %s AND %s AND {place} '
        "GROUP BY city, country, date ORDER BY date, city, country"
    ).format(place=place)
    with _connect_rows(conn) as cur:
        rows = cur.execute(query, [f.start.date(), (f.end - timedelta(microseconds=1)).date(), *params]).fetchall()
    for row in rows:
        midnight = datetime(row["date"].year, row["date"].month, row["date"].day, tzinfo=UTC)
        expected = max(1, min(24, int((now - midnight).total_seconds() // 3600) + 1))
        row["hours_expected"] = expected
        row["completeness"] = round(min(1.0, row["hours_observed"] / expected), 3)
        row["newest_age_minutes"] = round((now - row.pop("newest")).total_seconds() / 60)
    return rows


def recent_runs(conn: psycopg.Connection[Any], limit: int = 20) -> list[dict[str, Any]]:
    """The last materializations of the platform (v_pipeline_runs: no error messages for the reader)."""
    with _connect_rows(conn) as cur:
        return cur.execute(
            "SELECT run_id, asset_key, partition_key, status, started_at, finished_at, duration_seconds, rows_in, "
            "rows_out FROM v_pipeline_runs ORDER BY started_at DESC LIMIT %s",
            (limit,),
        ).fetchall()


def healthy(conn: psycopg.Connection[Any]) -> bool:
    return conn.execute("SELECT 1").fetchone() == (1,)
