"""Jobs: what runs together. Run policies (concurrency pools, timeout) live in dagster.instance.yaml and these tags."""

import dagster as dg

from weather_platform.assets.bronze import BRONZE_KEY, DRAIN_KEY

RUN_TIMEOUT_TAGS = {"dagster/max_runtime": str(2 * 60 * 60)}  # enforced by run monitoring (dagster.yaml)

pipeline_job = dg.define_asset_job(
    "weather_pipeline",
    # The drain, then the partition's bronze day (repair + checks, no Kafka): silver depends on that day, so it
    # follows the drain of the round just polled instead of running beside it.
    selection=dg.AssetSelection.groups("ingestion", "bronze", "silver", "gold"),
    description="One polling round and a Kafka drain, then silver → gold for the partition's day, with every check.",
    tags=RUN_TIMEOUT_TAGS,
    # Every step in one process: one import of the definitions and one Spark session serve the whole run.
    executor_def=dg.in_process_executor,
)

bronze_job = dg.define_asset_job(
    "bronze_drain",
    selection=dg.AssetSelection.assets(DRAIN_KEY),
    description="Drain Kafka into bronze, whatever days the records belong to (requested by the Kafka-lag sensor).",
    tags=RUN_TIMEOUT_TAGS,
)

history_job = dg.define_asset_job(
    "history_backfill",
    selection=dg.AssetSelection.assets(DRAIN_KEY, BRONZE_KEY) | dg.AssetSelection.groups("silver", "gold"),
    description="A Kafka drain, then bronze days, silver and gold of a past range as one run (launch it as a "
    "backfill of a date range); `weather-platform backfill` and the `history_fetch` job publish the range's history "
    "from Open-Meteo first and then launch it.",
    tags=RUN_TIMEOUT_TAGS,
    executor_def=dg.in_process_executor,
)
