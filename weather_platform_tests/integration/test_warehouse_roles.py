"""PostgreSQL of the stack: the writer role round-trips data, the BI role `weather_reader` can only read."""

from __future__ import annotations

import os
import stat

import psycopg
import pytest
from psycopg import sql

from weather_platform.settings import Settings, stack_dir, stack_env_file
from weather_platform.stack.manager import credentials
from weather_platform.stack.services import READER_ROLE_SETTINGS


def _reader(settings: Settings) -> psycopg.Connection:
    return psycopg.connect(
        host=settings.postgres_host,
        port=settings.postgres_port,
        dbname=settings.postgres_db,
        user="weather_reader",
        password=credentials()["WEATHER_READER_PASSWORD"],
        autocommit=True,
    )


@pytest.fixture
def writer_table(settings: Settings, unique: str):  # type: ignore[no-untyped-def]
    table = f"it_roundtrip_{unique}"
    with psycopg.connect(**settings.postgres_connect_kwargs(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE TABLE {} (city text PRIMARY KEY, temperature double precision)").format(
            sql.Identifier(table)))  # fmt: skip
        yield table
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))


def test_writer_roundtrip_with_parameters(settings: Settings, writer_table: str) -> None:
    city = "Robert'); DROP TABLE students;--"
    with psycopg.connect(**settings.postgres_connect_kwargs()) as conn:
        conn.execute(sql.SQL("INSERT INTO {} VALUES (%s, %s)").format(sql.Identifier(writer_table)), (city, 21.5))
        conn.commit()
        rows = conn.execute(sql.SQL("SELECT city, temperature FROM {}").format(sql.Identifier(writer_table))).fetchall()
    assert rows == [(city, 21.5)]


def test_reader_reads_no_table_that_is_not_documented_gold_and_can_change_nothing(
    settings: Settings, writer_table: str
) -> None:
    table = sql.Identifier(writer_table)
    with _reader(settings) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # no default privileges: only what is granted
            conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table))
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TEMP TABLE it_reader_temp_ro (a int)")
        # Even after leaving read-only mode, privileges refuse every write and every CREATE.
        conn.execute("SET default_transaction_read_only = off")
        for statement in (
            sql.SQL("INSERT INTO {} VALUES ('Oslo', 1.0)").format(table),
            sql.SQL("UPDATE {} SET temperature = 0").format(table),
            sql.SQL("DELETE FROM {}").format(table),
            sql.SQL("CREATE TABLE it_reader_owned (a int)"),
            sql.SQL("CREATE TEMP TABLE it_reader_temp (a int)"),
            # the locks that serialize gold loads and migrations: a BI session must not be able to hold them
            sql.SQL("SELECT pg_advisory_lock(1)"),
            sql.SQL("SELECT pg_try_advisory_xact_lock(hashtext('weather_platform.migrations'), 1)"),
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_reader_sessions_are_bounded_and_cannot_reach_the_dagster_database(settings: Settings) -> None:
    with _reader(settings) as conn:
        current = {name: conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()[0]  # type: ignore[index]
                   for name in READER_ROLE_SETTINGS}  # fmt: skip
    assert current == {"default_transaction_read_only": "on", "statement_timeout": "5min",
                       "idle_in_transaction_session_timeout": "1min", "lock_timeout": "10s"}  # fmt: skip
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(
            host=settings.postgres_host,
            port=settings.postgres_port,
            dbname=settings.dagster_postgres_db,
            user="weather_reader",
            password=credentials()["WEATHER_READER_PASSWORD"],
        )


def test_the_writer_still_takes_its_advisory_locks(settings: Settings) -> None:
    with psycopg.connect(**settings.postgres_connect_kwargs(), autocommit=True) as conn:
        assert conn.execute("SELECT pg_try_advisory_lock(424242)").fetchone() == (True,)
        assert conn.execute("SELECT pg_advisory_unlock(424242)").fetchone() == (True,)


def test_the_stack_state_directory_is_the_owners_alone() -> None:
    state = stack_dir()
    assert stat.S_IMODE(state.stat().st_mode) == 0o700 and state.stat().st_uid == os.getuid()
    logs = [p for p in state.rglob("*.log") if p.is_file()]
    assert logs, "the services log into the state directory"
    assert {str(p): oct(stat.S_IMODE(p.stat().st_mode)) for p in logs if p.stat().st_mode & 0o077} == {}
    assert stat.S_IMODE(stack_env_file().stat().st_mode) == 0o600
