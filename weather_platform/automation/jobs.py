"""Jobs: what runs together. Run policies (one run at a time, timeout) live in dagster.yaml and these tags."""

import dagster as dg

from weather_platform.assets.bronze import BRONZE_KEY

RUN_TIMEOUT_TAGS = {"dagster/max_runtime": str(2 * 60 * 60)}  # enforced by run monitoring (dagster.yaml)

pipeline_job = dg.define_asset_job(
    "weather_pipeline",
    selection=dg.AssetSelection.groups("ingestion", "bronze", "silver", "gold"),
    description="One polling round, then bronze → silver → gold for the partition's day, with every check.",
    tags=RUN_TIMEOUT_TAGS,
)

bronze_job = dg.define_asset_job(
    "bronze_drain",
    selection=dg.AssetSelection.assets(BRONZE_KEY),
    description="Drain Kafka into bronze (requested by the Kafka-lag sensor).",
    tags=RUN_TIMEOUT_TAGS,
)
