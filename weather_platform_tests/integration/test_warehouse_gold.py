"""Gold warehouse on the real PostgreSQL: migrations, per-day replaces, failures, execution log, checks, views, roles.

Every test works in a schema of its own (`it_<unique>`), migrated from scratch and dropped afterwards.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import psycopg
import pyarrow as pa
import pytest
from psycopg import sql

from weather_platform.schema import ENRICHMENT, LINEAGE, OBSERVATION
from weather_platform.settings import Settings
from weather_platform.stack.manager import credentials
from weather_platform.warehouse.execution_log import ExecutionLog
from weather_platform.warehouse.loader import LoadRejected, load_day, month_partition
from weather_platform.warehouse.migrations import (
    MigrationError,
    SchemaBehind,
    discover,
    migrate,
    pending,
    require_current,
)
from weather_platform.warehouse.queries import (
    DayFigures,
    column_descriptions,
    day_figures,
    newest_observation_age,
)
from weather_platform.warehouse.retention import apply_gold, plan_gold
from weather_platform.warehouse.tables import (
    DAILY_AGGREGATES,
    DETAILED,
    EXECUTION_LOG,
    GOLD_TABLES,
    HOURLY_AGGREGATES,
    READER_RELATIONS,
    GoldTable,
)
from weather_platform_tests.benchmarks.bench_gold_load import detailed_rows

pytestmark = pytest.mark.integration

DAY = date(2024, 7, 15)
NEXT_DAY = date(2024, 7, 16)
INJECTION = "Robert'); DROP TABLE gold_weather_detailed;--"
ASSET = "gold/weather_detailed"


def connect(settings: Settings, **kwargs: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(**settings.postgres_connect_kwargs(), autocommit=True, **kwargs)


@pytest.fixture
def empty_schema(settings: Settings, unique: str) -> Iterator[str]:
    name = f"it_{unique}"
    with connect(settings) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        yield name
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
def schema(settings: Settings, empty_schema: str) -> str:
    with connect(settings) as conn:
        migrate(conn, empty_schema)
    return empty_schema


@pytest.fixture
def conn(settings: Settings, schema: str) -> Iterator[psycopg.Connection[Any]]:
    with connect(settings, options=f"-c search_path={schema}") as connection:
        yield connection


def stored(conn: psycopg.Connection[Any], table: GoldTable, day: date, columns: tuple[str, ...] = ()) -> list[Any]:
    """The day's rows of `table` (its loaded columns unless told), in key order."""
    return conn.execute(
        sql.SQL("SELECT {} FROM {} WHERE date = %s ORDER BY {}").format(
            sql.SQL(", ").join(map(sql.Identifier, columns or table.stored_inputs)),
            sql.Identifier(table.name),
            sql.SQL(", ").join(map(sql.Identifier, table.index_key)),
        ),
        (day,),
    ).fetchall()


def by_key(rows: pa.Table, table: GoldTable = DETAILED) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(r[k] for k in table.key): r for r in rows.to_pylist()}


def with_column(rows: pa.Table, name: str, values: list[Any]) -> pa.Table:
    index = rows.column_names.index(name)
    return rows.set_column(index, name, pa.array(values, rows.schema.field(name).type))


def partitions(conn: psycopg.Connection[Any], schema: str, parent: str = DETAILED.name) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = "
        "i.inhrelid WHERE i.inhparent = %s::regclass ORDER BY 1",
        (f"{schema}.{parent}",),
    ).fetchall()


def earlier_release_month(conn: psycopg.Connection[Any], schema: str, first: date) -> None:
    """A month partition as releases before migration 0007 created it: one plain table."""
    name, first, following = month_partition(DETAILED, first)
    conn.execute(
        sql.SQL("CREATE TABLE {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
            sql.Identifier(schema, name), sql.Identifier(schema, DETAILED.name), first, following
        )
    )


def table_oids(conn: psycopg.Connection[Any], schema: str) -> dict[str, int]:
    """Every table of the schema (partitions too) by name, with its oid: a new oid is a new table."""
    return dict(
        conn.execute(
            "SELECT relname, oid::bigint FROM pg_class WHERE relnamespace = %s::regnamespace AND relkind IN ('r', 'p')",
            (schema,),
        ).fetchall()
    )


def log_rows(conn: psycopg.Connection[Any], run_id: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT status, asset_key, partition_key, rows_in, rows_out, error_message, duration_seconds, "
        "finished_at >= started_at FROM pipeline_execution_log WHERE run_id = %s",
        (run_id,),
    ).fetchall()


def daily_rows(rows: list[tuple[str, str | None, date, float]]) -> pa.Table:
    """Daily aggregate rows (city, country, date, avg_temperature); the other metrics null, one observation."""
    columns: dict[str, Any] = {c: pa.nulls(len(rows), pa.float64()) for c in DAILY_AGGREGATES.input_columns}
    for i, name in enumerate(("city", "country", "date", "avg_temperature")):
        columns[name] = pa.array([r[i] for r in rows])
    columns["observation_count"] = pa.array([1] * len(rows), pa.int64())
    columns["dominant_weather"] = pa.nulls(len(rows), pa.string())
    return pa.table(columns)


# Migrations ---------------------------------------------------------------------------------------------------------


def test_migrations_apply_once_and_create_the_described_tables(settings: Settings, empty_schema: str) -> None:
    versions = [m.version for m in discover()]
    with connect(settings) as conn:
        assert migrate(conn, empty_schema) == versions
        assert migrate(conn, empty_schema) == []
        applied = conn.execute(
            sql.SQL("SELECT version, checksum FROM {} ORDER BY version").format(
                sql.Identifier(empty_schema, "schema_migrations")
            )
        ).fetchall()
        assert applied == [(m.version, m.checksum) for m in discover()]
        for table in GOLD_TABLES:
            columns = conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                "ORDER BY ordinal_position",
                (empty_schema, table.name),
            ).fetchall()
            assert tuple(c for (c,) in columns) == table.columns
            index = conn.execute(
                "SELECT array_agg(a.attname ORDER BY k.ord), i.indisunique, i.indnullsnotdistinct "
                "FROM pg_constraint c JOIN pg_index i ON i.indexrelid = c.conindid "
                "CROSS JOIN unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                "WHERE c.conname = %s AND c.connamespace = %s::regnamespace GROUP BY i.indisunique, "
                "i.indnullsnotdistinct",
                (f"{table.name}_key", empty_schema),
            ).fetchone()
            assert index == (list(table.index_key), True, True)


def test_the_migrations_give_every_contract_column_the_contracts_type(settings: Settings, schema: str) -> None:
    """The SQL migrations held to the one schema contract (weather_platform/schema.py): same names, same types."""
    with connect(settings, options=f"-c search_path={schema}") as conn:
        stored = {c.name: c.data_type for c in column_descriptions(conn, DETAILED)}
    expected = {c.name: c.gold for c in (*OBSERVATION, *LINEAGE, *ENRICHMENT) if c.gold is not None}
    assert {name: stored[name] for name in expected} == expected
    assert "raw_json" not in stored  # bronze keeps the original record


def test_concurrent_migrations_apply_each_version_exactly_once(settings: Settings, empty_schema: str) -> None:
    workers = 4
    start = threading.Barrier(workers)

    def run() -> list[str]:
        with connect(settings) as conn:
            start.wait()
            return migrate(conn, empty_schema)

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda _: run(), range(workers)))
    assert sorted(v for applied in results for v in applied) == [m.version for m in discover()]
    with connect(settings) as conn:
        count = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(empty_schema, "schema_migrations"))
        ).fetchone()
    assert count == (len(discover()),)


def test_an_edited_applied_migration_is_an_error(settings: Settings, schema: str) -> None:
    with connect(settings) as conn:
        conn.execute(
            sql.SQL("UPDATE {} SET checksum = 'before-the-edit' WHERE version = '0002'").format(
                sql.Identifier(schema, "schema_migrations")
            )
        )
        with pytest.raises(MigrationError, match=r"0002_bi_views\.sql was applied with checksum before-the-edit"):
            migrate(conn, schema)


def test_a_schema_behind_the_code_is_named_with_what_to_run_and_a_current_one_passes(
    settings: Settings, empty_schema: str
) -> None:
    versions = [m.version for m in discover()]
    with connect(settings) as conn:
        assert pending(conn, empty_schema) == versions  # not even the migrations table yet
        with pytest.raises(
            SchemaBehind, match=rf"lacks migration\(s\) {', '.join(versions)}: .*weather-platform migrate"
        ):
            require_current(conn, "here", empty_schema)
        migrate(conn, empty_schema)
        assert pending(conn, empty_schema) == []
        require_current(conn, "here", empty_schema)
        conn.execute(
            sql.SQL("DELETE FROM {} WHERE version = %s").format(sql.Identifier(empty_schema, "schema_migrations")),
            (versions[-1],),
        )
        with pytest.raises(SchemaBehind, match=rf"lacks migration\(s\) {versions[-1]}:"):
            require_current(conn, "here", empty_schema)


# Loads --------------------------------------------------------------------------------------------------------------


def test_loading_a_day_twice_gives_the_same_rows_and_leaves_other_days_alone(
    conn: psycopg.Connection[Any], schema: str
) -> None:
    today, tomorrow = detailed_rows(1500, DAY), detailed_rows(700, NEXT_DAY, seed=8)
    first = load_day(conn, DETAILED, DAY, today, "run-1", schema)
    load_day(conn, DETAILED, NEXT_DAY, tomorrow, "run-1", schema)
    loaded = stored(conn, DETAILED, DAY)
    neighbour = stored(conn, DETAILED, NEXT_DAY, DETAILED.columns)

    again = load_day(conn, DETAILED, DAY, today, "run-2", schema)

    assert (first.rows_loaded, first.rows_replaced) == (1500, 0)
    assert (again.rows_loaded, again.rows_replaced) == (1500, 1500)
    assert stored(conn, DETAILED, DAY) == loaded
    assert stored(conn, DETAILED, DAY, ("dagster_run_id",)) == [("run-2",)] * 1500
    assert stored(conn, DETAILED, NEXT_DAY, DETAILED.columns) == neighbour
    # What was stored is exactly what was given, value for value.
    expected = by_key(today)
    assert len(loaded) == len(expected)
    for row in loaded:
        values = dict(zip(DETAILED.stored_inputs, row, strict=True))
        assert values.pop("date") == DAY
        assert values == expected[tuple(values[k] for k in DETAILED.key)]


def test_a_reload_replaces_the_day_with_exactly_the_new_rows(conn: psycopg.Connection[Any], schema: str) -> None:
    load_day(conn, DETAILED, DAY, detailed_rows(1000, DAY), "run-1", schema)
    fewer = with_column(detailed_rows(400, DAY, seed=9), "temperature", [-3.25] * 400)
    result = load_day(conn, DETAILED, DAY, fewer, "run-2", schema)
    assert (result.rows_loaded, result.rows_replaced) == (400, 1000)
    assert day_figures(conn, DETAILED, [DAY], schema)[DAY].rows == 400
    assert set(stored(conn, DETAILED, DAY, ("temperature", "dagster_run_id"))) == {(-3.25, "run-2")}


def test_detailed_rows_go_to_day_partitions_of_month_partitions_created_on_demand(
    conn: psycopg.Connection[Any], schema: str
) -> None:
    for day in (date(2024, 7, 31), date(2024, 8, 1), date(2024, 8, 2)):
        load_day(conn, DETAILED, day, detailed_rows(50, day), "run-1", schema)
    assert partitions(conn, schema) == [
        ("gold_weather_detailed_p202407", "FOR VALUES FROM ('2024-07-01') TO ('2024-08-01')"),
        ("gold_weather_detailed_p202408", "FOR VALUES FROM ('2024-08-01') TO ('2024-09-01')"),
    ]
    assert partitions(conn, schema, "gold_weather_detailed_p202408") == [
        ("gold_weather_detailed_p20240801", "FOR VALUES FROM ('2024-08-01') TO ('2024-08-02')"),
        ("gold_weather_detailed_p20240802", "FOR VALUES FROM ('2024-08-02') TO ('2024-08-03')"),
    ]
    counts = conn.execute("SELECT tableoid::regclass::text, count(*) FROM gold_weather_detailed GROUP BY 1 ORDER BY 1")
    assert counts.fetchall() == [
        ("gold_weather_detailed_p20240731", 50),
        ("gold_weather_detailed_p20240801", 50),
        ("gold_weather_detailed_p20240802", 50),
    ]


def test_a_replace_swaps_the_days_partition_alone_and_it_keeps_one_unique_index(
    conn: psycopg.Connection[Any], schema: str
) -> None:
    load_day(conn, DETAILED, DAY, detailed_rows(300, DAY), "run-1", schema)
    load_day(conn, DETAILED, NEXT_DAY, detailed_rows(200, NEXT_DAY), "run-1", schema)
    before = table_oids(conn, schema)
    load_day(conn, DETAILED, DAY, detailed_rows(250, DAY, seed=5), "run-2", schema)
    after = table_oids(conn, schema)

    day_table, next_table = f"{DETAILED.name}_p{DAY:%Y%m%d}", f"{DETAILED.name}_p{NEXT_DAY:%Y%m%d}"
    assert after[day_table] != before[day_table]  # a new table took the day's place ...
    assert after[next_table] == before[next_table]  # ... and the next day's was not touched
    assert set(after) == set(before)  # no table left over from the load
    indexes = conn.execute(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s", (schema, day_table)
    ).fetchall()
    assert len(indexes) == 1  # the parent's key, adopted at ATTACH: not built twice
    assert f"UNIQUE INDEX {day_table}_key " in indexes[0][0] and "NULLS NOT DISTINCT" in indexes[0][0]
    assert conn.execute("SELECT count(*), min(dagster_run_id), max(dagster_run_id) FROM gold_weather_detailed "
                        "WHERE date = %s", (DAY,)).fetchone() == (250, "run-2", "run-2")  # fmt: skip
    # the parent's key holds in the swapped-in day
    with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
        conn.execute(
            "INSERT INTO gold_weather_detailed SELECT * FROM gold_weather_detailed WHERE date = %s LIMIT 1", (DAY,)
        )
    assert conn.execute("SELECT current_setting('weather_platform.run_id', true)").fetchone() in ((None,), ("",))


def test_a_month_table_of_an_earlier_release_is_still_replaced_in_place(
    conn: psycopg.Connection[Any], schema: str
) -> None:
    """Months created as one plain table before the days had partitions keep loading (DELETE, then INSERT)."""
    earlier_release_month(conn, schema, date(2024, 7, 1))
    load_day(conn, DETAILED, DAY, detailed_rows(120, DAY), "run-1", schema)
    again = load_day(conn, DETAILED, DAY, detailed_rows(90, DAY, seed=2), "run-2", schema)
    assert (again.rows_loaded, again.rows_replaced) == (90, 120)
    assert partitions(conn, schema, f"{DETAILED.name}_p202407") == []
    assert set(stored(conn, DETAILED, DAY, ("dagster_run_id",))) == {("run-2",)}
    assert len(stored(conn, DETAILED, DAY, ("dagster_run_id",))) == 90


def test_rows_of_another_day_are_rejected_before_anything_is_written(
    conn: psycopg.Connection[Any], schema: str
) -> None:
    day = date(2024, 9, 30)
    rows = pa.concat_tables([detailed_rows(100, day), detailed_rows(1, date(2024, 10, 1))])
    with pytest.raises(LoadRejected, match="1 of 101 rows are not dated 2024-09-30"):
        load_day(conn, DETAILED, day, rows, "run-1", schema)
    assert conn.execute("SELECT count(*) FROM gold_weather_detailed").fetchone() == (0,)
    assert partitions(conn, schema) == []


def test_timestamps_without_zone_are_stored_as_utc_whatever_the_session_zone(
    conn: psycopg.Connection[Any], schema: str
) -> None:
    rows = detailed_rows(24, DAY)
    naive = rows.set_column(
        rows.column_names.index("timestamp"), "timestamp", rows["timestamp"].cast(pa.timestamp("us"))
    )
    conn.execute("SET TimeZone = 'America/New_York'")
    load_day(conn, DETAILED, DAY, naive, "run-1", schema)
    assert [t for (t,) in stored(conn, DETAILED, DAY, ("timestamp",))] == sorted(rows["timestamp"].to_pylist())


def test_concurrent_loads_of_one_day_serialize_instead_of_colliding(
    settings: Settings, conn: psycopg.Connection[Any], schema: str
) -> None:
    """Two loads of a day at once: unserialized, the second would delete nothing and then hit the first's keys."""
    load_day(conn, DETAILED, DAY, detailed_rows(100, DAY), "run-0", schema)
    rows = detailed_rows(3000, DAY, seed=4)
    with (
        connect(settings) as first,
        connect(settings) as second,
        ThreadPoolExecutor(2) as pool,
    ):
        pids = (first.info.backend_pid, second.info.backend_pid)
        with conn.transaction():
            # Hold the day's rows so that both loads are under way, and waiting, before either can finish.
            conn.execute("SELECT FROM gold_weather_detailed WHERE date = %s FOR UPDATE", (DAY,))
            loads = [
                pool.submit(load_day, c, DETAILED, DAY, rows, f"run-{i}", schema)
                for i, c in enumerate((first, second), 1)
            ]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                waiting = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s) AND wait_event_type = 'Lock'",
                    (list(pids),),
                ).fetchone()
                if waiting == (2,):
                    break
                time.sleep(0.01)
            assert waiting == (2,)
        results = [load.result() for load in loads]
    assert sorted((r.rows_loaded, r.rows_replaced) for r in results) == [(3000, 100), (3000, 3000)]
    runs = conn.execute("SELECT dagster_run_id, count(*) FROM gold_weather_detailed GROUP BY 1").fetchall()
    assert len(runs) == 1 and runs[0][1] == 3000


def test_a_hostile_city_name_is_stored_and_read_back_as_data(conn: psycopg.Connection[Any], schema: str) -> None:
    rows = detailed_rows(40, DAY)
    rows = with_column(rows, "city", [INJECTION] * 10 + rows["city"].to_pylist()[10:])
    load_day(conn, DETAILED, DAY, rows, "run-1", schema)
    load_day(conn, DAILY_AGGREGATES, DAY, daily_rows([(INJECTION, None, DAY, 21.5)]), "run-1", schema)
    assert conn.execute("SELECT count(*) FROM gold_weather_detailed WHERE city = %s", (INJECTION,)).fetchone() == (10,)
    assert conn.execute("SELECT count(*) FROM gold_weather_detailed").fetchone() == (40,)
    latest = conn.execute("SELECT city FROM v_weather_latest WHERE city = %s", (INJECTION,)).fetchall()
    assert latest == [(INJECTION,)]  # the first ten rows are ten stations of one country: one (city, country)
    trend = conn.execute("SELECT city, country, avg_temperature FROM v_weather_daily_trend").fetchall()
    assert trend == [(INJECTION, None, 21.5)]


# Failures -----------------------------------------------------------------------------------------------------------


def _break_midway(rows: pa.Table, how: str) -> pa.Table:
    middle = rows.num_rows // 2
    if how == "null_city":  # refused by the staging table's NOT NULL, halfway through the COPY
        cities = rows["city"].to_pylist()
        return with_column(rows, "city", [*cities[:middle], None, *cities[middle + 1 :]])
    # a key given twice: accepted by staging, refused by the unique key after the day's rows were deleted
    return pa.concat_tables([rows.slice(0, middle), rows.slice(10, 1), rows.slice(middle)])


@pytest.mark.parametrize(
    ("how", "error"),
    [("null_city", psycopg.errors.NotNullViolation), ("duplicate_key", psycopg.errors.UniqueViolation)],
)
def test_a_load_failing_halfway_keeps_the_previous_rows_and_is_logged_failed(
    settings: Settings, conn: psycopg.Connection[Any], schema: str, how: str, error: type[Exception]
) -> None:
    load_day(conn, DETAILED, DAY, detailed_rows(800, DAY), "run-1", schema)
    before = stored(conn, DETAILED, DAY, DETAILED.columns)
    broken = _break_midway(detailed_rows(2000, DAY, seed=21), how)

    log = ExecutionLog(partial(connect, settings), schema)
    with log, pytest.raises(error), log.entry("run-2", ASSET, "2024-07-15") as counts:
        counts.rows_in = broken.num_rows
        load_day(conn, DETAILED, DAY, broken, "run-2", schema)

    assert stored(conn, DETAILED, DAY, DETAILED.columns) == before
    [(status, asset, partition, rows_in, rows_out, message, seconds, ordered)] = log_rows(conn, "run-2")
    assert (status, asset, partition, rows_out, ordered) == ("failed", ASSET, "2024-07-15", None, True)
    assert rows_in == broken.num_rows
    assert message.startswith(error.__name__) and seconds > 0


def test_a_connection_killed_during_copy_keeps_the_previous_rows_and_is_logged_failed(
    settings: Settings, conn: psycopg.Connection[Any], schema: str
) -> None:
    load_day(conn, DETAILED, DAY, detailed_rows(500, DAY), "run-1", schema)
    before = stored(conn, DETAILED, DAY, DETAILED.columns)
    big = detailed_rows(300_000, DAY, seed=5)
    copied_when_killed: list[int] = []

    def kill_during_copy(pid: int) -> None:
        with connect(settings) as watcher:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                row = watcher.execute("SELECT tuples_processed FROM pg_stat_progress_copy WHERE pid = %s", (pid,))
                progress = row.fetchone()
                if progress and progress[0] > 0:
                    watcher.execute("SELECT pg_terminate_backend(%s)", (pid,))
                    copied_when_killed.append(progress[0])
                    return
                time.sleep(0.002)

    with connect(settings) as victim, ThreadPoolExecutor(1) as pool:
        killer = pool.submit(kill_during_copy, victim.info.backend_pid)
        log = ExecutionLog(partial(connect, settings), schema)
        with log, pytest.raises(psycopg.OperationalError), log.entry("run-2", ASSET, "x"):
            load_day(victim, DETAILED, DAY, big, "run-2", schema)
        killer.result()

    assert copied_when_killed and 0 < copied_when_killed[0] < big.num_rows
    assert stored(conn, DETAILED, DAY, DETAILED.columns) == before
    [(status, *_, message, _seconds, _ordered)] = log_rows(conn, "run-2")
    assert status == "failed" and message.startswith("OperationalError")


# Execution log ------------------------------------------------------------------------------------------------------


def test_a_successful_load_is_logged_with_its_counts(
    settings: Settings, conn: psycopg.Connection[Any], schema: str
) -> None:
    rows = detailed_rows(300, DAY)
    with ExecutionLog(partial(connect, settings), schema) as log, log.entry("run-1", ASSET, "2024-07-15") as counts:
        assert [r[0] for r in log_rows(conn, "run-1")] == ["started"]
        counts.rows_in = rows.num_rows
        counts.rows_out = load_day(conn, DETAILED, DAY, rows, "run-1", schema).rows_loaded
    [(status, asset, partition, rows_in, rows_out, message, seconds, ordered)] = log_rows(conn, "run-1")
    assert (status, asset, partition, rows_in, rows_out, message, ordered) == (
        "success",
        ASSET,
        "2024-07-15",
        300,
        300,
        None,
        True,
    )
    assert seconds > 0


# Check queries ------------------------------------------------------------------------------------------------------


def test_day_figures_count_each_days_rows_and_repeated_keys_nulls_included(
    conn: psycopg.Connection[Any], schema: str
) -> None:
    conn.execute("ALTER TABLE gold_weather_daily_aggregates DROP CONSTRAINT gold_weather_daily_aggregates_key")
    crafted = [
        ("Paris", "FR", DAY, 20.0),
        ("Paris", "FR", DAY, 21.0),
        ("Oslo", None, DAY, 10.0),
        ("Oslo", None, DAY, 11.0),
        ("Oslo", None, DAY, 12.0),
        ("Oslo", "NO", DAY, 9.0),
        ("Rome", "IT", DAY, 25.0),
    ]
    load_day(conn, DAILY_AGGREGATES, DAY, daily_rows(crafted), "run-1", schema)
    load_day(conn, DAILY_AGGREGATES, NEXT_DAY, daily_rows([("Rome", "IT", NEXT_DAY, 24.0)] * 2), "run-1", schema)
    # Paris twice and Oslo/None three times on DAY; Rome twice the day after; nothing on the day before.
    before = DAY - timedelta(days=1)
    assert day_figures(conn, DAILY_AGGREGATES, [before, DAY, NEXT_DAY], schema) == {
        before: DayFigures(rows=0, duplicate_keys=0),
        DAY: DayFigures(rows=7, duplicate_keys=2),
        NEXT_DAY: DayFigures(rows=2, duplicate_keys=1),
    }
    assert day_figures(conn, DAILY_AGGREGATES, [NEXT_DAY], schema) == {NEXT_DAY: DayFigures(2, 1)}


def test_newest_observation_age(conn: psycopg.Connection[Any], schema: str) -> None:
    now = datetime(2024, 7, 17, 6, 0, tzinfo=UTC)
    assert newest_observation_age(conn, now, schema) is None
    hours = [datetime(2024, 7, 16, h, m, tzinfo=UTC) for h, m in ((1, 0), (17, 45), (9, 30))]
    load_day(conn, DETAILED, NEXT_DAY, with_column(detailed_rows(3, NEXT_DAY), "timestamp", hours), "run-1", schema)
    load_day(conn, DETAILED, DAY, detailed_rows(300, DAY), "run-1", schema)
    assert newest_observation_age(conn, now, schema) == timedelta(hours=12, minutes=15)


# Retention ----------------------------------------------------------------------------------------------------------


def test_retention_drops_expired_months_and_days_and_its_plan_says_so(
    conn: psycopg.Connection[Any], schema: str
) -> None:
    days = [date(2023, 5, 10), date(2023, 6, 14), date(2023, 6, 15), date(2023, 7, 1)]
    for i, day in enumerate(days):
        load_day(conn, DETAILED, day, detailed_rows(20 + i, day), "run-1", schema)
        load_day(conn, DAILY_AGGREGATES, day, daily_rows([("Oslo", "NO", day, 1.0)]), "run-1", schema)
    cutoff = date(2023, 6, 15)
    expired = {DETAILED.name: 20 + 21, DAILY_AGGREGATES.name: 2, HOURLY_AGGREGATES.name: 0}

    assert plan_gold(conn, cutoff, schema) == expired
    assert [f.rows for f in day_figures(conn, DETAILED, days, schema).values()] == [20, 21, 22, 23]  # unchanged
    assert apply_gold(conn, cutoff, schema) == expired

    assert [f.rows for f in day_figures(conn, DETAILED, days, schema).values()] == [0, 0, 22, 23]
    assert [f.rows for f in day_figures(conn, DAILY_AGGREGATES, days, schema).values()] == [0, 0, 1, 1]
    assert [name for name, _ in partitions(conn, schema)] == [
        "gold_weather_detailed_p202306",
        "gold_weather_detailed_p202307",
    ]  # May went as a whole partition ...
    assert [name for name, _ in partitions(conn, schema, f"{DETAILED.name}_p202306")] == [
        "gold_weather_detailed_p20230615"
    ]  # ... and so did June's 14th
    assert plan_gold(conn, cutoff, schema) == dict.fromkeys(expired, 0)


def test_retention_trims_a_month_table_of_an_earlier_release_by_delete(
    conn: psycopg.Connection[Any], schema: str
) -> None:
    earlier_release_month(conn, schema, date(2023, 6, 1))
    days = [date(2023, 6, 14), date(2023, 6, 15)]
    for day in days:
        load_day(conn, DETAILED, day, detailed_rows(30, day), "run-1", schema)
    assert apply_gold(conn, date(2023, 6, 15), schema)[DETAILED.name] == 30
    assert [f.rows for f in day_figures(conn, DETAILED, days, schema).values()] == [0, 30]


# BI views -----------------------------------------------------------------------------------------------------------


def test_latest_view_holds_the_newest_observation_of_each_city(conn: psycopg.Connection[Any], schema: str) -> None:
    today, tomorrow = detailed_rows(400, DAY), detailed_rows(100, NEXT_DAY, seed=3)
    load_day(conn, DETAILED, DAY, today, "run-1", schema)
    load_day(conn, DETAILED, NEXT_DAY, tomorrow, "run-1", schema)
    newest: dict[tuple[str, str], datetime] = {}
    for row in pa.concat_tables([today, tomorrow]).to_pylist():
        key = (row["city"], row["country"])
        newest[key] = max(newest.get(key, row["timestamp"]), row["timestamp"])
    latest = conn.execute('SELECT city, country, "timestamp" FROM v_weather_latest').fetchall()
    assert {(city, country): ts for city, country, ts in latest} == newest
    assert len(latest) == len(newest)


def test_daily_trend_gives_the_change_since_the_previous_calendar_day(
    conn: psycopg.Connection[Any], schema: str
) -> None:
    days = [DAY - timedelta(days=1), DAY, DAY + timedelta(days=2)]  # a gap before the last day
    for day, paris, oslo in zip(days, (20.0, 23.5, 19.0), (5.0, 4.0, 6.0), strict=True):
        load_day(conn, DAILY_AGGREGATES, day, daily_rows([("Paris", "FR", day, paris), ("Oslo", None, day, oslo)]),
                 "run-1", schema)  # fmt: skip
    trend = conn.execute(
        "SELECT city, date, previous_avg_temperature, avg_temperature_change FROM v_weather_daily_trend "
        "ORDER BY city, date"
    ).fetchall()
    assert trend == [
        ("Oslo", days[0], None, None),
        ("Oslo", days[1], 5.0, -1.0),
        ("Oslo", days[2], None, None),
        ("Paris", days[0], None, None),
        ("Paris", days[1], 20.0, 3.5),
        ("Paris", days[2], None, None),
    ]


# The BI role --------------------------------------------------------------------------------------------------------


def test_reader_selects_gold_tables_and_views_and_can_change_nothing(
    settings: Settings, conn: psycopg.Connection[Any], schema: str
) -> None:
    load_day(conn, DETAILED, DAY, detailed_rows(10, DAY), "run-1", schema)
    reader_kwargs = {**settings.postgres_connect_kwargs(), "user": "weather_reader"}
    reader_kwargs["password"] = credentials()["WEATHER_READER_PASSWORD"]
    with psycopg.connect(**reader_kwargs, autocommit=True) as reader:
        for name in READER_RELATIONS:
            reader.execute(sql.SQL("SELECT * FROM {} LIMIT 1").format(sql.Identifier(schema, name)))
        assert reader.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, "v_weather_latest"))
        ).fetchone() == (10,)
        # the execution log's error messages, the migrations' bookkeeping and the partitions are not gold
        for name in (
            EXECUTION_LOG,
            "schema_migrations",
            f"{DETAILED.name}_p{DAY:%Y%m}",
            f"{DETAILED.name}_p{DAY:%Y%m%d}",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(schema, name)))
        readable = reader.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = %s::regnamespace "
            "AND c.relkind IN ('r', 'p', 'v', 'm') AND has_table_privilege(c.oid, 'SELECT') ORDER BY 1",
            (schema,),
        ).fetchall()
        assert [name for (name,) in readable] == sorted(READER_RELATIONS)
        # Out of read-only mode, privileges alone must refuse every change.
        reader.execute("SET default_transaction_read_only = off")
        statements: list[sql.SQL | sql.Composed] = []
        for name, column in [*((t.name, "city") for t in GOLD_TABLES), (EXECUTION_LOG, "run_id")]:
            table, target = sql.Identifier(schema, name), sql.Identifier(column)
            statements += [
                sql.SQL("INSERT INTO {} ({}) VALUES ('Oslo')").format(table, target),
                sql.SQL("UPDATE {} SET {} = 'Oslo'").format(table, target),
                sql.SQL("DELETE FROM {}").format(table),
                sql.SQL("TRUNCATE {}").format(table),
            ]
        statements += [
            sql.SQL("CREATE TABLE {} (a int)").format(sql.Identifier(schema, "reader_table")),
            sql.SQL("CREATE VIEW {} AS SELECT 1 AS a").format(sql.Identifier(schema, "reader_view")),
            sql.SQL("CREATE TEMP TABLE reader_temp (a int)"),
        ]
        for statement in statements:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(statement)
    assert conn.execute("SELECT count(*) FROM gold_weather_detailed").fetchone() == (10,)


# What BI tools show -------------------------------------------------------------------------------------------------

NUMERIC_TYPES = {"double precision", "integer", "bigint", "numeric", "smallint"}


def test_every_gold_table_view_and_column_has_a_comment_with_its_unit(
    conn: psycopg.Connection[Any], schema: str
) -> None:
    relations = (*READER_RELATIONS, EXECUTION_LOG)
    described = conn.execute(
        "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c "
        "WHERE c.relnamespace = %s::regnamespace AND c.relname = ANY(%s)",
        (schema, list(relations)),
    ).fetchall()
    assert sorted(name for name, _ in described) == sorted(relations)
    assert [name for name, text in described if not text] == []
    columns = conn.execute(
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), col_description(c.oid, a.attnum) "
        "FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
        "WHERE c.relnamespace = %s::regnamespace AND c.relname = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped",
        (schema, list(relations)),
    ).fetchall()
    assert len(columns) > 150
    assert [(rel, col) for rel, col, _, text in columns if not text] == []
    # A number carries its unit in brackets at the end ("[°C]", "[mm]", "[count]"); an identifier says so.
    unitless = [
        (rel, col, text)
        for rel, col, kind, text in columns
        if kind.split("(")[0] in NUMERIC_TYPES and not (re.search(r"\[[^\]]+\]$", text) or text.endswith("(id)"))
    ]
    assert unitless == []
    units = {col: text for rel, col, _, text in columns if rel == DETAILED.name}
    assert units["temperature"].endswith("[°C]") and units["rain_1h"].endswith("[mm]")
    assert units["wind_speed"].endswith("[m/s]") and units["pressure"].endswith("[hPa]")


def _aggregate_rows(table: GoldTable, day: date, seed: int) -> pa.Table:
    """Aggregate rows for a few cities with unrounded metrics, the way Spark's averages come out."""
    rng = random.Random(seed)
    hours = range(24) if "hour" in table.key else [None]
    rows = []
    for city in ("Paris", "Oslo", "Cairo"):
        for hour in hours:
            row: dict[str, Any] = {"city": city, "country": "XX", "date": day}
            if hour is not None:
                row["hour"] = hour
            for column in table.input_columns:
                if column in row:
                    continue
                if column == "dominant_weather":
                    row[column] = "Rain"
                elif column in ("observation_count", "hours_observed"):
                    row[column] = 1 if hour is not None else rng.randint(1, 24)
                elif column == "coverage_share":
                    row[column] = 1.0 if hour is not None else rng.random()
                else:
                    row[column] = rng.uniform(-30.0, 1040.0) / 3.0  # never a round number
            rows.append(row)
    return pa.Table.from_pylist(rows)


ROUNDED_VIEWS = {
    "v_weather_latest": (DETAILED, ("city", "country", "timestamp"), {
        "temperature": 1, "feels_like_c": 1, "humidity": 0, "dew_point": 1, "pressure": 1, "wind_speed": 1,
        "wind_gust": 1, "rain_1h": 1, "snow_1h": 1, "heat_index": 1, "wind_chill": 1,
    }),
    "v_weather_daily_trend": (DAILY_AGGREGATES, ("city", "country", "date"), {
        "avg_temperature": 1, "min_temperature": 1, "max_temperature": 1, "avg_feels_like_c": 1, "avg_humidity": 0,
        "avg_pressure": 1, "avg_wind_speed": 1, "max_wind_speed": 1, "total_rain_mm": 1, "total_snow_mm": 1,
        "avg_heat_index": 1, "coverage_share": 2,
    }),
    "v_weather_hourly": (HOURLY_AGGREGATES, ("city", "country", "date", "hour"), {
        "avg_temperature": 1, "min_temperature": 1, "max_temperature": 1, "avg_feels_like_c": 1, "avg_humidity": 0,
        "avg_pressure": 1, "avg_wind_speed": 1, "max_wind_speed": 1, "total_rain_mm": 1, "total_snow_mm": 1,
        "avg_heat_index": 1,
    }),
}  # fmt: skip


@pytest.mark.parametrize("view", sorted(ROUNDED_VIEWS))
def test_views_are_rounded_and_match_the_tables_within_the_rounding(
    conn: psycopg.Connection[Any], schema: str, view: str
) -> None:
    table, key, precision = ROUNDED_VIEWS[view]
    rows = detailed_rows(300, DAY) if table is DETAILED else _aggregate_rows(table, DAY, seed=7)
    load_day(conn, table, DAY, rows, "run-1", schema)
    names = [*key, *precision]
    keys = sql.SQL(", ").join(map(sql.Identifier, key))
    view_rows = conn.execute(
        sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
            sql.SQL(", ").join(map(sql.Identifier, names)), sql.Identifier(view), keys
        )
    ).fetchall()
    table_rows = {
        tuple(r[: len(key)]): r[len(key) :]
        for r in conn.execute(
            sql.SQL("SELECT {} FROM {}").format(
                sql.SQL(", ").join(map(sql.Identifier, names)), sql.Identifier(table.name)
            )
        ).fetchall()
    }
    assert len(view_rows) >= 3
    checked = 0
    for row in view_rows:
        exact = table_rows[tuple(row[: len(key)])]
        for (column, decimals), shown, value in zip(precision.items(), row[len(key) :], exact, strict=True):
            if value is None:
                assert shown is None, (view, column)
                continue
            assert isinstance(shown, Decimal) and -shown.as_tuple().exponent <= decimals, (view, column, shown)
            assert abs(float(shown) - value) <= 0.5 * 10**-decimals + 1e-9, (view, column, shown, value)
            checked += 1
    assert checked > 30


def test_the_migrate_command_reports_a_current_schema_and_changes_nothing(settings: Settings) -> None:
    with connect(settings) as conn:
        before = conn.execute("SELECT version, applied_at FROM schema_migrations ORDER BY 1").fetchall()
    result = subprocess.run(
        [sys.executable, "-m", "weather_platform.cli", "migrate"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "the gold schema is current" in result.stderr  # the CLI reports on stderr, like every command
    with connect(settings) as conn:
        assert conn.execute("SELECT version, applied_at FROM schema_migrations ORDER BY 1").fetchall() == before
    assert [v for v, _ in before] == [m.version for m in discover()]
