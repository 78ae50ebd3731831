"""The platform's one partitioning: UTC days, today included (hourly runs refresh the current day)."""

import warnings
from datetime import date

import dagster as dg

# Per-partition asset checks are a Dagster preview feature; we rely on it on purpose (results per day in the UI).
warnings.filterwarnings(
    "ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=dg.PreviewWarning
)

DAILY = dg.DailyPartitionsDefinition(start_date="2025-01-01", timezone="UTC", end_offset=1)


def partition_day(context: dg.AssetExecutionContext) -> date:
    return date.fromisoformat(context.partition_key)
