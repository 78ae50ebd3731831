"""Retention of gold (365 days by default, docs/DESIGN.md §5): rows dated before a cutoff go; a dry run counts them.

Partitions of gold_weather_detailed (months, and the days a month is divided into) that lie wholly before the cutoff
are dropped — instant, and no dead rows left for vacuum; what remains before the cutoff (in a month table of an
earlier release, undivided) is trimmed by a DELETE. The aggregate tables are small
and lose their rows by DELETE. Everything happens in one transaction: a failure leaves gold as it was.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import psycopg
from psycopg import sql

from weather_platform.warehouse.loader import day_partition, month_partition
from weather_platform.warehouse.tables import GOLD_TABLES, GoldTable, relation

_MONTH_SUFFIX = re.compile(r"_p(\d{4})(\d{2})$")
_DAY_SUFFIX = re.compile(r"_p(\d{4})(\d{2})(\d{2})$")


def gold_cutoff(today: date, keep_days: int = 365) -> date:
    """The oldest day kept: rows dated before it are past retention."""
    return today - timedelta(days=keep_days)


def plan_gold(conn: psycopg.Connection[Any], cutoff: date, schema: str | None = None) -> dict[str, int]:
    """Rows per gold table that `apply_gold` would remove for `cutoff`; nothing is changed."""
    return {table.name: _expired_rows(conn, table, cutoff, schema) for table in GOLD_TABLES}


def apply_gold(conn: psycopg.Connection[Any], cutoff: date, schema: str | None = None) -> dict[str, int]:
    """Remove the rows dated before `cutoff` from every gold table; return how many went per table."""
    removed: dict[str, int] = {}
    with conn.transaction():
        for table in GOLD_TABLES:
            dropped = 0
            if table.partitioned:
                for partition in expired_partitions(conn, table, cutoff, schema):
                    dropped += _count(conn, partition)
                    conn.execute(sql.SQL("DROP TABLE {}").format(partition))
            deleted = conn.execute(
                sql.SQL("DELETE FROM {} WHERE {} < %s").format(
                    relation(table.name, schema), sql.Identifier(table.date_column)
                ),
                (cutoff,),
            ).rowcount
            removed[table.name] = dropped + deleted
    return removed


def expired_partitions(
    conn: psycopg.Connection[Any], table: GoldTable, cutoff: date, schema: str | None = None
) -> list[sql.Identifier]:
    """The loader's partitions of `table` wholly before `cutoff`: whole months, and in the months kept, whole days.

    Partitions are recognised by the loader's naming (`<table>_pYYYYMM` and `<table>_pYYYYMMDD`, checked against
    their bounds); anything else attached by hand is left to the DELETE, which is always correct, merely slower.
    """
    expired = []
    for namespace, name in _children(conn, relation(table.name, schema).as_string(conn)):
        match = _MONTH_SUFFIX.search(name)
        if match is None:
            continue
        expected, _, following = month_partition(table, date(int(match[1]), int(match[2]), 1))
        if name != expected:
            continue
        if following <= cutoff:
            expired.append(sql.Identifier(namespace, name))
            continue
        for day_namespace, day_name in _children(conn, sql.Identifier(namespace, name).as_string(conn)):
            day_match = _DAY_SUFFIX.search(day_name)
            if day_match is None:
                continue
            expected, _, following = day_partition(table, date(*map(int, day_match.groups())))
            if day_name == expected and following <= cutoff:
                expired.append(sql.Identifier(day_namespace, day_name))
    return expired


def _children(conn: psycopg.Connection[Any], parent: str) -> list[tuple[str, str]]:
    """(schema, name) of the partitions directly under `parent`, by name."""
    return [
        (namespace, name)
        for namespace, name in conn.execute(
            "SELECT n.nspname, c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE i.inhparent = %s::regclass ORDER BY c.relname",
            (parent,),
        ).fetchall()
    ]


def _expired_rows(conn: psycopg.Connection[Any], table: GoldTable, cutoff: date, schema: str | None) -> int:
    row = conn.execute(
        sql.SQL("SELECT count(*) FROM {} WHERE {} < %s").format(
            relation(table.name, schema), sql.Identifier(table.date_column)
        ),
        (cutoff,),
    ).fetchone()
    assert row is not None  # an aggregate without GROUP BY returns one row
    return int(row[0])


def _count(conn: psycopg.Connection[Any], partition: sql.Identifier) -> int:
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(partition)).fetchone()
    assert row is not None  # an aggregate without GROUP BY returns one row
    return int(row[0])
