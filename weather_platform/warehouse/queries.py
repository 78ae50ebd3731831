"""Read-only queries behind the gold asset checks (docs/DESIGN.md §5): reconciliation, uniqueness, freshness."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from weather_platform.warehouse.tables import DETAILED, EXECUTION_LOG, GoldTable, identifiers, relation


@dataclass(frozen=True)
class DayFigures:
    """What gold holds for one day: its rows and the keys held by more than one row."""

    rows: int
    duplicate_keys: int


def day_figures(
    conn: psycopg.Connection[Any], table: GoldTable, days: list[date], schema: str | None = None
) -> dict[date, DayFigures]:
    """Each day's rows and duplicated keys in `table` (reconciliation and uniqueness), two queries for any range.

    Keys compare NULLs as equal, as the unique constraint does. The constraint keeps duplicates at zero as long
    as it exists; the check proves it on the data rather than trusting the DDL (a constraint dropped by hand, a
    table restored without it).
    """
    if not days:
        return {}
    target, day, key = relation(table.name, schema), sql.Identifier(table.date_column), identifiers(table.key)
    span = (min(days), max(days))
    counts = conn.execute(
        sql.SQL("SELECT {}, count(*) FROM {} WHERE {} BETWEEN %s AND %s GROUP BY 1").format(day, target, day), span
    ).fetchall()
    repeated = conn.execute(
        sql.SQL(
            "SELECT {}, count(*) FROM (SELECT {} FROM {} WHERE {} BETWEEN %s AND %s GROUP BY {}, {} "
            "HAVING count(*) > 1) AS repeated GROUP BY 1"
        ).format(day, day, target, day, day, key),
        span,
    ).fetchall()
    rows, duplicates = dict(counts), dict(repeated)
    return {d: DayFigures(int(rows.get(d, 0)), int(duplicates.get(d, 0))) for d in days}


def newest_observation_age(conn: psycopg.Connection[Any], now: datetime, schema: str | None = None) -> timedelta | None:
    """How old the newest gold observation is at `now`, or None when there is none (freshness check).

    Looks at the newest date only, so it reads one partition's index instead of the whole history.
    """
    table, day = relation(DETAILED.name, schema), sql.Identifier(DETAILED.date_column)
    row = conn.execute(
        sql.SQL('SELECT max("timestamp") FROM {} WHERE {} = (SELECT max({}) FROM {})').format(table, day, day, table)
    ).fetchone()
    newest = row[0] if row else None
    return None if newest is None else now - newest


def failed_runs_since(conn: psycopg.Connection[Any], since: datetime, schema: str | None = None) -> int:
    """Distinct runs with a `failed` row in the execution log since `since` (monitoring metadata)."""
    row = conn.execute(
        sql.SQL("SELECT count(DISTINCT run_id) FROM {} WHERE status = 'failed' AND started_at >= %s").format(
            relation(EXECUTION_LOG, schema)
        ),
        (since,),
    ).fetchone()
    return int(row[0]) if row is not None else 0


@dataclass(frozen=True)
class ColumnDescription:
    name: str
    data_type: str
    comment: str | None


def column_descriptions(conn: psycopg.Connection[Any], table: GoldTable) -> list[ColumnDescription]:
    """The table's columns as the warehouse has them (where the search_path finds it): type and COMMENT (unit)."""
    rows = conn.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), col_description(a.attrelid, a.attnum) "
        "FROM pg_attribute a WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        (sql.Identifier(table.name).as_string(conn),),
    ).fetchall()
    return [ColumnDescription(name, data_type, comment) for name, data_type, comment in rows]
