"""The platform's one partitioning: UTC days, today included (hourly runs refresh the current day)."""

import warnings
from datetime import date

import dagster as dg

from weather_platform.settings import load_settings

# Per-partition asset checks are a Dagster preview feature; we rely on it on purpose (results per day in the UI).
warnings.filterwarnings(
    "ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=dg.PreviewWarning
)
# Range runs (`BackfillPolicy.single_run()`) are beta in Dagster 1.13; one run per backfill is what we want.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)

# The code location's settings, read once, here: they shape the definitions themselves (first partition, retry
# delay) and build its resources (definitions.py).
DEFINITION_SETTINGS = load_settings()
DAILY_START: date = DEFINITION_SETTINGS.weather_partitions_start  # WEATHER_PARTITIONS_START
DAILY = dg.DailyPartitionsDefinition(start_date=DAILY_START.isoformat(), timezone="UTC", end_offset=1)


def partition_day(context: dg.AssetExecutionContext) -> date:
    return date.fromisoformat(context.partition_key)
