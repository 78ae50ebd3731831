"""Versioned schema migrations: the SQL files of `migrations/`, each applied once, in order, by the platform.

Every migration runs in its own transaction under a transaction-level advisory lock, so concurrent `migrate`
calls (two Dagster processes starting at once) serialize: the second waits, then finds the work done. An applied
migration whose file has since changed is an error rather than silently ignored: schema history must not fork.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from weather_platform.warehouse.loader import LOCK_TIMEOUT
from weather_platform.warehouse.tables import relation

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATIONS_TABLE = "schema_migrations"
_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")
_LOCK_NAMESPACE = "weather_platform.migrations"


class MigrationError(RuntimeError):
    """The migration files or the migrations table are not in a state migrations can safely build on."""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @cached_property
    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations of `directory` in version order; a misnamed file or a reused version is an error."""
    migrations: dict[str, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_lowercase_name.sql")
        version = match["version"]
        if version in migrations:
            raise MigrationError(f"{path.name}: version {version} is also {migrations[version].path.name}")
        migrations[version] = Migration(version, match["name"], path)
    return list(migrations.values())


def migrate(conn: psycopg.Connection[Any], schema: str | None = None) -> list[str]:
    """Apply the pending migrations; return the versions applied by this call (empty when up to date).

    `schema` (which must exist) receives the tables, for tests that each use their own; by default they go
    where the connection's search_path puts them.
    """
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise MigrationError("migrate needs a connection outside any transaction: each migration commits")
    table = relation(MIGRATIONS_TABLE, schema)
    with conn.transaction():
        _lock(conn, schema)
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (version text PRIMARY KEY, name text NOT NULL, "
                "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            ).format(table)
        )
    applied = []
    for migration in discover():
        with conn.transaction():
            _lock(conn, schema)
            row = conn.execute(
                sql.SQL("SELECT checksum FROM {} WHERE version = %s").format(table), (migration.version,)
            ).fetchone()
            if row is not None:
                if row[0] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.path.name} was applied with checksum {row[0]} but the file now has "
                        f"{migration.checksum}: never edit an applied migration, add a new one"
                    )
                continue
            conn.execute(migration.text)
            conn.execute(
                sql.SQL("INSERT INTO {} (version, name, checksum) VALUES (%s, %s, %s)").format(table),
                (migration.version, migration.name, migration.checksum),
            )
        applied.append(migration.version)
    return applied


class SchemaBehind(MigrationError):
    """The warehouse lacks migrations this code needs: they are applied once, never by a pipeline run."""


def pending(conn: psycopg.Connection[Any], schema: str | None = None) -> list[str]:
    """The versions of this code's migrations not applied to the warehouse (one cheap query, nothing written)."""
    table = relation(MIGRATIONS_TABLE, schema)
    known = conn.execute("SELECT to_regclass(%s)", (table.as_string(conn),)).fetchone()
    applied: set[str] = set()
    if known is not None and known[0] is not None:
        applied = {row[0] for row in conn.execute(sql.SQL("SELECT version FROM {}").format(table))}
    return [m.version for m in discover() if m.version not in applied]


def require_current(conn: psycopg.Connection[Any], where: str, schema: str | None = None) -> None:
    """Fail with what to run when the warehouse's schema is behind this code."""
    missing = pending(conn, schema)
    if missing:
        raise SchemaBehind(
            f"the gold schema of {where} lacks migration(s) {', '.join(missing)}: apply them once with "
            "`weather-platform migrate` (the local stack's `weather-platform stack up` does it)"
        )


def _lock(conn: psycopg.Connection[Any], schema: str | None) -> None:
    """Serialize migrations of one schema until the transaction ends; point unqualified names at that schema."""
    conn.execute(LOCK_TIMEOUT)
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(coalesce(%s, current_schema())))",
        (_LOCK_NAMESPACE, schema),
    )
    if schema:
        conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
