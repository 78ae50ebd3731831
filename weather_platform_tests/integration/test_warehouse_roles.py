"""PostgreSQL of the stack: the writer role round-trips data, the BI role `weather_reader` can only read."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from weather_platform.settings import Settings
from weather_platform.stack.manager import credentials


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


def test_reader_can_select_but_not_write_or_create(settings: Settings, writer_table: str) -> None:
    table = sql.Identifier(writer_table)
    with _reader(settings) as conn:
        assert conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone() == (0,)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute(sql.SQL("INSERT INTO {} VALUES ('Oslo', 1.0)").format(table))
        # Even after leaving read-only mode, privileges refuse every write and every CREATE.
        conn.execute("SET default_transaction_read_only = off")
        for statement in (
            sql.SQL("INSERT INTO {} VALUES ('Oslo', 1.0)").format(table),
            sql.SQL("UPDATE {} SET temperature = 0").format(table),
            sql.SQL("DELETE FROM {}").format(table),
            sql.SQL("CREATE TABLE it_reader_owned (a int)"),
            sql.SQL("CREATE TEMP TABLE it_reader_temp (a int)"),
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
