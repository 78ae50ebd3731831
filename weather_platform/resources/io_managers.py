"""Where the silver and gold partitions live, as Dagster IO managers: an asset hands over its days and the IO
manager owns the storage — which objects or rows a day is, how it is replaced, what is logged (docs/DESIGN.md §4)."""

from datetime import date
from typing import Any, Protocol

import dagster as dg
from pyspark.sql import DataFrame

from weather_platform.lake.layout import silver_day_url
from weather_platform.lake.silver_reader import SilverDays
from weather_platform.lake.silver_writer import DatasetDays, read_bronze_days, read_silver, replace_days
from weather_platform.resources.lake import LakeResource
from weather_platform.resources.postgres import PostgresResource
from weather_platform.resources.spark import SparkResource
from weather_platform.service_errors import Endpoints, naming_services
from weather_platform.warehouse import queries
from weather_platform.warehouse.execution_log import ExecutionLog
from weather_platform.warehouse.loader import GoldDays, load_days
from weather_platform.warehouse.tables import GOLD_TABLES, GoldTable


def _days(context: dg.InputContext | dg.OutputContext) -> list[date]:
    return [date.fromisoformat(key) for key in context.asset_partition_keys]


class LakeReads(Protocol):
    """What the silver step reads back from the lake IO manager that stored its outputs."""

    @property
    def endpoints(self) -> Endpoints: ...

    def read(self, dataset: str, days: list[date]) -> DataFrame | None: ...


class LakeIOManager(dg.ConfigurableIOManager):
    """Spark DataFrames ↔ the lake's day folders (`<bucket>/<dataset>/year=/month=/day=/`), keyed by asset key
    (`bronze/weather_raw`, `silver/<dataset>`): bronze days read for silver, a silver dataset written with a
    dynamic partition overwrite of exactly the run's days (the partition or the range), and read back for the
    aggregates and the checks (`read`)."""

    spark: dg.ResourceDependency[SparkResource]
    lake: dg.ResourceDependency[LakeResource]

    def handle_output(self, context: dg.OutputContext, obj: DatasetDays) -> None:
        dataset, days = _silver_dataset(context.asset_key), _days(context)
        with naming_services(self.endpoints):
            replace_days(self.spark.session(), obj, self.lake.silver_bucket, dataset, days)
        if obj.figures is not None:
            context.add_output_metadata(obj.figures())
        if len(days) == 1:
            context.add_output_metadata({"path": dg.MetadataValue.path(self.location(dataset, days[0]))})

    def load_input(self, context: dg.InputContext) -> DataFrame | None:
        """Bronze: the days' records with the day of the folder each came from; silver: `read`."""
        days = _days(context)
        if context.asset_key.path[0] == "bronze":
            with naming_services(self.endpoints):
                return read_bronze_days(self.spark.session(), self.lake.bronze_bucket, days)
        return self.read(_silver_dataset(context.asset_key), days)

    @property
    def endpoints(self) -> Endpoints:
        """Where the lake is, for errors that name it."""
        return Endpoints(s3=self.lake.s3_location, spark=self.spark.remote)

    def read(self, dataset: str, days: list[date]) -> DataFrame | None:
        """A silver dataset's rows of `days` with year, month and day; None when silver holds none of them."""
        with naming_services(self.endpoints):
            return read_silver(self.spark.session(), self.lake.silver_bucket, dataset, days)

    def location(self, dataset: str, day: date) -> str:
        return silver_day_url(self.lake.silver_bucket, dataset, day)


def _silver_dataset(key: dg.AssetKey) -> str:
    if key.path[0] != "silver":
        raise ValueError(f"{key.to_user_string()} is not a silver dataset: the lake IO manager writes silver only")
    return key.path[-1]


class SilverDaysInput(dg.InputManager):
    """Silver datasets as gold reads them: each day of the input's partitions, read with Arrow when it is loaded.

    Input only: the silver step writes its datasets itself, in one Spark job per dataset for the whole range
    (lake/silver_writer.py), so nothing is handed to this manager to store.
    """

    def load_input(self, context: dg.InputContext) -> SilverDays:
        lake: LakeResource = context.resources.lake
        dataset = context.asset_key.path[-1]
        return SilverDays(lake.arrow_fs(), lake.silver_bucket, dataset, _days(context), lake.s3_location)


class GoldIOManager(dg.IOManager):
    """Gold tables in PostgreSQL: each day of the partition (or range) replaced in its own transaction, with an
    execution-log row, on one connection; what each day then holds is filed in the output for its checks."""

    def handle_output(self, context: dg.OutputContext, obj: GoldDays) -> None:
        table = _table_of(context.asset_key)
        postgres: PostgresResource = context.resources.postgres
        with naming_services(Endpoints(postgres=postgres.location)):
            postgres.require_current_schema()
            with postgres.connect() as conn, ExecutionLog(postgres.connect) as log:
                load_days(conn, log, table, obj, context.run_id, context.asset_key.to_user_string(), context.log.info)
                with conn.transaction():
                    columns = queries.column_descriptions(conn, table)
        context.add_output_metadata(_metadata(table, obj, columns))

    def load_input(self, context: dg.InputContext) -> None:
        raise TypeError(
            f"{context.asset_key.to_user_string()}: gold is read with SQL (the BI role), not as a Dagster input"
        )


# Built on the run's `lake` and `postgres` resources (by key), so replacing either replaces what these use.
silver_days_input = dg.InputManagerDefinition(
    resource_fn=lambda _: SilverDaysInput(),
    required_resource_keys={"lake"},
    description="Silver days read with Arrow, one day at a time, as the gold assets take them.",
)


gold_io_manager = dg.IOManagerDefinition(
    resource_fn=lambda _: GoldIOManager(),
    required_resource_keys={"postgres"},
    description="Gold tables in PostgreSQL, replaced a day at a time in a transaction each.",
)


def _table_of(key: dg.AssetKey) -> GoldTable:
    name = f"gold_{key.path[-1]}"
    for table in GOLD_TABLES:
        if table.name == name:
            return table
    raise ValueError(f"{key.to_user_string()} is not a gold table ({', '.join(t.name for t in GOLD_TABLES)})")


def _metadata(table: GoldTable, output: GoldDays, columns: list[queries.ColumnDescription]) -> dict[str, Any]:
    """The day's figures for one day; for a range, its totals and a per-day table (recorded for each day). Both
    carry the table's columns as the warehouse describes them (type, unit in the comment) for the UI."""
    stored = [output.stored[day] for day in output.days]
    loads = [s.load for s in stored if s.load is not None]
    schema = dg.TableSchema(columns=[dg.TableColumn(c.name, c.data_type, description=c.comment) for c in columns])
    common = {
        "rows_loaded": sum(load.rows_loaded for load in loads),
        "rows_replaced": sum(load.rows_replaced for load in loads),
        "load_seconds": round(sum(load.seconds for load in loads), 3),
        "table": table.name,
        "dagster/column_schema": schema,
    }
    if len(stored) == 1:
        return {"dagster/row_count": stored[0].rows, **common}
    lines = "\n".join(
        f"| {day} | {s.offered if s.offered is not None else 'no silver'} | {s.rows} |"
        for day, s in zip(output.days, stored, strict=True)
    )
    return {
        "rows_in_range": sum(s.rows for s in stored),
        **common,
        "days": dg.MetadataValue.md("| day | silver rows | gold rows |\n|---|---|---|\n" + lines),
    }
