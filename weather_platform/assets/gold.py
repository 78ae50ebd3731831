"""`gold/*`: each silver day of the run (one day, or a backfill's range) handed to the gold IO manager, which
replaces it in PostgreSQL in its own transaction; then each day reconciled and checked."""

from collections.abc import Iterator

import dagster as dg

from weather_platform.assets.day_checks import DayChecks, partition_days
from weather_platform.assets.partitions import DAILY
from weather_platform.assets.policies import RETRY
from weather_platform.assets.silver import CLEANED, DAILY_AGG, HOURLY_AGG, REFRESH_ON_UPSTREAM_CHANGE
from weather_platform.warehouse.loader import DayRows, GoldDays
from weather_platform.warehouse.tables import DAILY_AGGREGATES, DETAILED, HOURLY_AGGREGATES, GoldTable

SILVER_INPUT = "silver_days"  # the resource keys of the two IO managers (resources/io_managers.py)
GOLD_STORAGE = "gold_io_manager"


def _gold_asset(key: str, table: GoldTable, source: dg.AssetKey, description: str) -> dg.AssetsDefinition:
    asset_key = dg.AssetKey(["gold", key])
    dataset = source.path[-1]

    @dg.asset(
        key=asset_key,
        ins={"silver": dg.AssetIn(source, input_manager_key=SILVER_INPUT)},
        io_manager_key=GOLD_STORAGE,
        partitions_def=DAILY,
        group_name="gold",
        kinds={"postgres"},
        automation_condition=REFRESH_ON_UPSTREAM_CHANGE,
        retry_policy=RETRY,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description=f"{description} PostgreSQL `{table.name}`; a day is replaced in one transaction.",
        check_specs=[
            dg.AssetCheckSpec(
                "reconciliation",
                asset=asset_key,
                blocking=True,
                partitions_def=DAILY,
                description="gold rows for the day = silver rows for the day",
            ),
            dg.AssetCheckSpec(
                "uniqueness",
                asset=asset_key,
                blocking=True,
                partitions_def=DAILY,
                description=f"one row per ({', '.join(table.key)})",
            ),
        ],
    )
    def _load(context: dg.AssetExecutionContext, silver: DayRows) -> Iterator[object]:
        days = GoldDays(partition_days(context), silver)
        yield dg.Output(days)  # stored here, by the IO manager, before any check is evaluated
        checks = DayChecks(context)
        yield from checks.outputs()
        for day in days.days:
            stored = days.stored[day]
            yield from checks.result(
                asset_key,
                "reconciliation",
                day,
                passed=stored.offered is not None and stored.rows == stored.offered,
                description=None
                if stored.offered is not None
                else f"silver/{dataset} has no data for {day}: materialize the silver assets for that day first",
                metadata={"gold_rows": stored.rows, "silver_rows": stored.offered or 0},
            )
            yield from checks.result(
                asset_key,
                "uniqueness",
                day,
                passed=stored.duplicate_keys == 0,
                metadata={"duplicate_keys": stored.duplicate_keys},
            )

    return _load


gold_weather_detailed = _gold_asset("weather_detailed", DETAILED, CLEANED, "One row per observation with lineage.")
gold_weather_daily_aggregates = _gold_asset(
    "weather_daily_aggregates", DAILY_AGGREGATES, DAILY_AGG, "Daily metrics per city."
)
gold_weather_hourly_aggregates = _gold_asset(
    "weather_hourly_aggregates", HOURLY_AGGREGATES, HOURLY_AGG, "Hourly metrics per city."
)

GOLD_ASSETS = [gold_weather_detailed, gold_weather_daily_aggregates, gold_weather_hourly_aggregates]
