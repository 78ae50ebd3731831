"""`gold/*`: each silver day loaded into PostgreSQL in one transaction, logged, reconciled and checked."""

from collections.abc import Iterator

import dagster as dg

from weather_platform.assets.partitions import DAILY, partition_day
from weather_platform.assets.policies import RETRY, endpoints
from weather_platform.assets.silver import CLEANED, DAILY_AGG, HOURLY_AGG, REFRESH_ON_UPSTREAM_CHANGE
from weather_platform.lake.silver_reader import read_silver_day
from weather_platform.resources import LakeResource, PostgresResource
from weather_platform.service_errors import naming_services
from weather_platform.warehouse import queries
from weather_platform.warehouse.execution_log import logged
from weather_platform.warehouse.loader import load_day
from weather_platform.warehouse.migrations import migrate
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
        day = partition_day(context)
        run_id = context.run.run_id
        with naming_services(endpoints(lake=lake, postgres=postgres)):
            rows = read_silver_day(lake.arrow_fs(), lake.silver_bucket, dataset, day)
            if rows is None:
                raise dg.Failure(
                    f"silver/{dataset} has no data for {day}: materialize the silver assets for that day first",
                    allow_retries=False,
                )
            with postgres.connect(autocommit=True) as conn:
                migrate(conn)
            with logged(postgres.connect, run_id, asset_key.to_user_string(), context.partition_key) as counts:
                counts.rows_in = rows.num_rows
                with postgres.connect() as conn:
                    result = load_day(conn, table, day, rows, run_id)
                counts.rows_out = result.rows_loaded
            with postgres.connect() as conn:
                in_gold = queries.row_count(conn, table, day)
                duplicates = queries.duplicate_keys(conn, table, day)
        yield dg.MaterializeResult(
            metadata={
                "dagster/row_count": in_gold,
                "rows_loaded": result.rows_loaded,
                "rows_replaced": result.rows_replaced,
                "load_seconds": round(result.seconds, 3),
                "table": table.name,
            }
        )
        yield dg.AssetCheckResult(
            check_name="reconciliation",
            passed=in_gold == rows.num_rows,
            metadata={"gold_rows": in_gold, "silver_rows": rows.num_rows},
        )
        yield dg.AssetCheckResult(
            check_name="uniqueness", passed=not duplicates, metadata={"duplicate_keys": len(duplicates)}
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
GOLD_ASSETS = [gold_weather_detailed, gold_weather_daily_aggregates, gold_weather_hourly_aggregates]
