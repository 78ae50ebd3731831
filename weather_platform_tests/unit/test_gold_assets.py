"""The gold assets with local IO managers: silver days from memory, gold as an in-memory table without the
unique constraint — the asset's own logic (which days, which checks, what fails) without PostgreSQL or S3."""

from __future__ import annotations

from datetime import date
from typing import Any

import dagster as dg
import pyarrow as pa
import pytest

from weather_platform.assets.gold import GOLD_STORAGE, SILVER_INPUT, gold_weather_daily_aggregates
from weather_platform.assets.partitions import DAILY
from weather_platform.assets.silver import DAILY_AGG
from weather_platform.warehouse.loader import GoldDays, StoredDay
from weather_platform.warehouse.tables import DAILY_AGGREGATES

DAYS = [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)]
GOLD_KEY = dg.AssetKey(["gold", "weather_daily_aggregates"])


def daily(*keys: tuple[str, str, date]) -> pa.Table:
    return pa.table(
        {
            "city": [k[0] for k in keys],
            "country": [k[1] for k in keys],
            "date": pa.array([k[2] for k in keys], pa.date32()),
        }
    )


class MemorySilver(dg.InputManager):
    """Silver days from a dict; a day missing from it is a day silver never wrote."""

    def __init__(self, days: dict[date, pa.Table]) -> None:
        self.days = days

    def load_input(self, context: dg.InputContext) -> Any:
        return self

    def read(self, day: date) -> pa.Table | None:
        return self.days.get(day)


class MemoryGold(dg.IOManager):
    """A gold table in memory, replaced a day at a time, that (like a table whose constraint was dropped) keeps
    duplicated keys; files each day's figures in the output as the PostgreSQL IO manager does."""

    def __init__(self) -> None:
        self.tables: dict[date, pa.Table] = {}

    def handle_output(self, context: dg.OutputContext, obj: GoldDays) -> None:
        for day in obj.days:
            rows = obj.rows.read(day)
            if rows is not None:
                self.tables[day] = rows
            held = self.tables.get(day, daily())
            keys = held.group_by(list(DAILY_AGGREGATES.key)).aggregate([([], "count_all")])
            repeated = sum(1 for count in keys["count_all"].to_pylist() if count > 1)
            offered = None if rows is None else rows.num_rows
            obj.stored[day] = StoredDay(offered, None, held.num_rows, repeated)

    def load_input(self, context: dg.InputContext) -> Any:
        raise NotImplementedError


def materialize(silver: dict[date, pa.Table], gold: MemoryGold, days: list[date]) -> dg.ExecuteInProcessResult:
    source = dg.AssetSpec(DAILY_AGG, partitions_def=DAILY)
    return dg.materialize(
        [source, gold_weather_daily_aggregates],
        selection=[gold_weather_daily_aggregates],
        partition_key=None if len(days) > 1 else days[0].isoformat(),
        tags={"dagster/asset_partition_range_start": days[0].isoformat(),
              "dagster/asset_partition_range_end": days[-1].isoformat()} if len(days) > 1 else None,
        resources={
            SILVER_INPUT: dg.InputManagerDefinition(resource_fn=lambda _: MemorySilver(silver)),
            GOLD_STORAGE: dg.IOManagerDefinition.hardcoded_io_manager(gold),
        },
        raise_on_error=False,
    )  # fmt: skip


def evaluations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    found = {}
    for event in result.get_asset_check_evaluations():
        assert event.partition is not None, "every check result names its day"
        found[(event.partition, event.check_name)] = event
    return found


def test_a_range_run_stores_each_day_and_checks_each_day_on_its_own() -> None:
    silver = {
        DAYS[0]: daily(("Oslo", "NO", DAYS[0]), ("Rome", "IT", DAYS[0])),
        DAYS[2]: daily(("Oslo", "NO", DAYS[2]), ("Oslo", "NO", DAYS[2]), ("Rome", "IT", DAYS[2])),
    }
    gold = MemoryGold()
    result = materialize(silver, gold, DAYS)

    assert not result.success  # blocking checks failed for two of the days
    assert sorted(gold.tables) == [DAYS[0], DAYS[2]]
    found = evaluations(result)
    assert len(found) == 6
    first, missing, repeated = (d.isoformat() for d in DAYS)
    assert found[(first, "reconciliation")].passed and found[(first, "uniqueness")].passed
    assert not found[(missing, "reconciliation")].passed
    assert found[(missing, "reconciliation")].description == (
        "silver/weather_daily_agg has no data for 2026-03-02: materialize the silver assets for that day first"
    )
    assert found[(missing, "uniqueness")].passed  # nothing there, nothing duplicated
    assert found[(repeated, "reconciliation")].passed  # 3 offered, 3 held
    assert not found[(repeated, "uniqueness")].passed
    assert found[(repeated, "uniqueness")].metadata["duplicate_keys"].value == 1


def test_a_day_silver_never_wrote_keeps_gold_as_it_was_and_fails_reconciliation() -> None:
    gold = MemoryGold()
    before = daily(("Oslo", "NO", DAYS[1]))
    gold.tables[DAYS[1]] = before
    result = materialize({}, gold, [DAYS[1]])

    assert not result.success
    assert gold.tables[DAYS[1]] is before
    check = evaluations(result)[(DAYS[1].isoformat(), "reconciliation")]
    assert not check.passed and check.metadata["gold_rows"].value == 1 and check.metadata["silver_rows"].value == 0


@pytest.mark.parametrize("day", DAYS)
def test_a_single_day_run_stores_and_passes_a_clean_day(day: date) -> None:
    gold = MemoryGold()
    rows = daily(("Oslo", "NO", day), ("Lima", "PE", day))
    result = materialize({day: rows}, gold, [day])

    assert result.success
    assert gold.tables == {day: rows}
    assert all(event.passed for event in evaluations(result).values())
