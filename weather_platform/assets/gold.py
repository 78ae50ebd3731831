"""`gold/*`: each silver day of the run (one day, or a backfill's range) loaded into PostgreSQL in its own
transaction, logged, reconciled and checked."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import dagster as dg

from weather_platform.assets.day_checks import DayChecks, partition_days
from weather_platform.assets.partitions import DAILY
from weather_platform.assets.policies import RETRY, endpoints
from weather_platform.assets.silver import CLEANED, DAILY_AGG, HOURLY_AGG, REFRESH_ON_UPSTREAM_CHANGE
from weather_platform.lake.silver_reader import read_silver_day
from weather_platform.resources import LakeResource, PostgresResource
from weather_platform.service_errors import naming_services
from weather_platform.warehouse import queries
from weather_platform.warehouse.execution_log import logged
from weather_platform.warehouse.loader import LoadResult, load_day
from weather_platform.warehouse.tables import DAILY_AGGREGATES, DETAILED, HOURLY_AGGREGATES, GoldTable


def _gold_asset(key: str, table: GoldTable, source: dg.AssetKey, dataset: str, description: str) -> dg.AssetsDefinition:
    asset_key = dg.AssetKey(["gold", key])

    @dg.asset(
        key=asset_key,
        deps=[source],
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
    def _load(context: dg.AssetExecutionContext, lake: LakeResource, postgres: PostgresResource) -> Iterator[object]:
        days = partition_days(context)
        run_id = context.run.run_id
        loads: list[GoldDayLoad] = []
        with naming_services(endpoints(lake=lake, postgres=postgres)):
            postgres.require_current_schema()
            for done, day in enumerate(days, start=1):
                rows = read_silver_day(lake.arrow_fs(), lake.silver_bucket, dataset, day)
                result = None
                if rows is not None:  # else nothing to load: the day's reconciliation says so, other days still load
                    with logged(postgres.connect, run_id, asset_key.to_user_string(), day.isoformat()) as counts:
                        counts.rows_in = rows.num_rows
                        with postgres.connect() as conn:
                            result = load_day(conn, table, day, rows, run_id)
                        counts.rows_out = result.rows_loaded
                    context.log.info(
                        f"[{done}/{len(days)}] {day}: {result.rows_loaded} rows into {table.name} "
                        f"({result.rows_replaced} replaced) in {result.seconds:.1f} s"
                    )
                with postgres.connect() as conn:
                    in_gold = queries.row_count(conn, table, day)
                    duplicates = queries.duplicate_keys(conn, table, day)
                loads.append(GoldDayLoad(day, None if rows is None else rows.num_rows, result, in_gold, duplicates))
        with postgres.connect() as conn:
            columns = queries.column_descriptions(conn, table)
        yield _materialization(table, loads, columns)
        checks = DayChecks(context)
        yield from checks.outputs()
        for load in loads:
            yield from checks.result(
                asset_key,
                "reconciliation",
                load.day,
                passed=load.silver_rows is not None and load.in_gold == load.silver_rows,
                description=None
                if load.silver_rows is not None
                else f"silver/{dataset} has no data for {load.day}: materialize the silver assets for that day first",
                metadata={"gold_rows": load.in_gold, "silver_rows": load.silver_rows or 0},
            )
            yield from checks.result(
                asset_key,
                "uniqueness",
                load.day,
                passed=not load.duplicates,
                metadata={"duplicate_keys": len(load.duplicates)},
            )

    return _load


gold_weather_detailed = _gold_asset(
    "weather_detailed", DETAILED, CLEANED, "weather_cleaned", "One row per observation with lineage."
)
gold_weather_daily_aggregates = _gold_asset(
    "weather_daily_aggregates", DAILY_AGGREGATES, DAILY_AGG, "weather_daily_agg", "Daily metrics per city."
)
gold_weather_hourly_aggregates = _gold_asset(
    "weather_hourly_aggregates", HOURLY_AGGREGATES, HOURLY_AGG, "weather_hourly_agg", "Hourly metrics per city."
)


@dataclass(frozen=True)
class GoldDayLoad:
    """One day of a gold run: silver's rows (None: silver has no such day), the load, and gold afterwards."""

    day: date
    silver_rows: int | None
    result: LoadResult | None
    in_gold: int
    duplicates: list[Any]


def _materialization(
    table: GoldTable, loads: list[GoldDayLoad], columns: list[queries.ColumnDescription]
) -> dg.MaterializeResult:
    """The day's figures for one day; for a range, its totals and a per-day table (recorded for each day). Both
    carry the table's columns as the warehouse describes them (type, unit in the comment) for the UI."""
    done = [load.result for load in loads if load.result is not None]
    schema = {
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(c.name, c.data_type, description=c.comment) for c in columns]
        )
    }
    if len(loads) == 1:
        only = done[0] if done else None
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": loads[0].in_gold,
                "rows_loaded": only.rows_loaded if only else 0,
                "rows_replaced": only.rows_replaced if only else 0,
                "load_seconds": round(only.seconds, 3) if only else 0.0,
                "table": table.name,
                **schema,
            }
        )
    lines = "\n".join(
        f"| {load.day} | {load.silver_rows if load.silver_rows is not None else 'no silver'} | {load.in_gold} |"
        for load in loads
    )
    return dg.MaterializeResult(
        metadata={
            "rows_in_range": sum(load.in_gold for load in loads),
            "rows_loaded": sum(r.rows_loaded for r in done),
            "rows_replaced": sum(r.rows_replaced for r in done),
            "load_seconds": round(sum(r.seconds for r in done), 3),
            "table": table.name,
            "days": dg.MetadataValue.md("| day | silver rows | gold rows |\n|---|---|---|\n" + lines),
            **schema,
        }
    )


GOLD_ASSETS = [gold_weather_detailed, gold_weather_daily_aggregates, gold_weather_hourly_aggregates]
