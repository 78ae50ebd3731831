"""`pipeline_execution_log`: one row per asset materialization, failed ones included (docs/DESIGN.md §4.4).

The log is written on connections of its own, never on the load's: a failed load rolls its transaction back
(or loses its connection altogether), and the `failed` row must survive that.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, Literal

import psycopg
from psycopg import sql

from weather_platform.warehouse.tables import EXECUTION_LOG, identifiers, relation

Status = Literal["started", "success", "failed"]
MAX_ERROR_CHARS = 2000
_SECRETS = (
    # key=value and key: value pairs whose key names a secret (libpq conninfo, env dumps, JSON-ish text)
    re.compile(
        r"(?i)(\b\w*(?:password|passwd|pwd|secret|token|api_?key|appid)\w*['\"]?\s*[=:]\s*)(['\"]?)[^\s'\",;&]+"
    ),
    # credentials inside URLs: scheme://user:password@host
    re.compile(r"(://[^/\s:@]+:)()[^@\s/]+(?=@)"),
)


@dataclass(frozen=True)
class ExecutionLogEntry:
    run_id: str
    asset_key: str
    partition_key: str | None
    status: Status
    started_at: datetime
    finished_at: datetime | None = None
    duration_seconds: float | None = None
    rows_in: int | None = None
    rows_out: int | None = None
    error_message: str | None = None


@dataclass
class RowCounts:
    """Set by the caller inside `ExecutionLog.entry`; written with the final status."""

    rows_in: int | None = None
    rows_out: int | None = None


_COLUMNS = tuple(f.name for f in fields(ExecutionLogEntry))  # the table's columns but its generated id


def record(conn: psycopg.Connection[Any], entry: ExecutionLogEntry, schema: str | None = None) -> int:
    """Insert `entry` and return its id; on a connection outside any transaction, it is committed on return."""
    values = [getattr(entry, column) for column in _COLUMNS]
    with conn.transaction():
        row = conn.execute(
            sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING id").format(
                relation(EXECUTION_LOG, schema),
                identifiers(_COLUMNS),
                sql.SQL(", ").join(sql.Placeholder() * len(_COLUMNS)),
            ),
            values,
        ).fetchone()
    assert row is not None  # INSERT ... RETURNING returns the inserted row
    return int(row[0])


class ExecutionLog:
    """Writes log rows on a connection of its own (autocommit), opened on first use and reopened when lost.

    Never the load's connection: a failed load rolls its transaction back (or loses its connection altogether),
    and its `failed` row must survive that. One connection serves a whole range of days.
    """

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], schema: str | None = None) -> None:
        self._connect, self._schema = connect, schema
        self._conn: psycopg.Connection[Any] | None = None

    def __enter__(self) -> ExecutionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            self._conn.close()

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                self._conn.close()
            self._conn = self._connect()
            self._conn.autocommit = True
        return self._conn

    @contextmanager
    def entry(self, run_id: str, asset_key: str, partition_key: str | None) -> Iterator[RowCounts]:
        """Log the enclosed work: a `started` row now, updated to `success` or `failed` with duration and counts.

        The work's exception is re-raised unchanged; if the log cannot be updated either, that is added to it as
        a note instead of hiding it.
        """
        started_at = datetime.now(UTC)
        clock = time.monotonic()
        entry = ExecutionLogEntry(run_id, asset_key, partition_key, "started", started_at)
        entry_id = record(self._connection(), entry, self._schema)
        counts = RowCounts()

        def finish(status: Status, error_message: str | None = None) -> None:
            self._connection().execute(
                sql.SQL(
                    "UPDATE {} SET status = %s, finished_at = %s, duration_seconds = %s, rows_in = %s, "
                    "rows_out = %s, error_message = %s WHERE id = %s"
                ).format(relation(EXECUTION_LOG, self._schema)),
                (status, datetime.now(UTC), time.monotonic() - clock, counts.rows_in, counts.rows_out,
                 error_message, entry_id),
            )  # fmt: skip

        try:
            yield counts
        except BaseException as exc:  # interruptions too: a run stopped mid-load is a failed load
            try:
                finish("failed", describe_error(exc))
            except psycopg.Error as log_error:
                exc.add_note(f"{EXECUTION_LOG} row {entry_id} could not be marked failed: {describe_error(log_error)}")
            raise
        finish("success")


def describe_error(exc: BaseException) -> str:
    """`Type: message`, with credentials masked and cut to MAX_ERROR_CHARS, fit for a table BI users read."""
    text = f"{type(exc).__name__}: {exc}"
    for pattern in _SECRETS:
        text = pattern.sub(r"\1\2***", text)
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"
