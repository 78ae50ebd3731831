"""The one Dagster `Definitions` of the platform: assets, checks, resources, jobs, schedules and sensors."""

import dagster as dg

from weather_platform.assets.bronze import kafka_drain, weather_raw
from weather_platform.assets.gold import GOLD_ASSETS
from weather_platform.assets.ingestion import weather_events
from weather_platform.assets.partitions import DEFINITION_SETTINGS
from weather_platform.assets.silver import silver
from weather_platform.automation.alerts import run_failure_alert
from weather_platform.automation.history import history_fetch, history_fetched
from weather_platform.automation.jobs import bronze_job, history_job, pipeline_job
from weather_platform.automation.retention import retention_job, weekly_retention
from weather_platform.automation.schedules import freshness_job, freshness_schedule, hourly_pipeline
from weather_platform.automation.sensors import kafka_lag_sensor, late_data_automation
from weather_platform.checks.freshness import gold_freshness
from weather_platform.resources import build_resources

defs = dg.Definitions(
    assets=[weather_events, kafka_drain, weather_raw, silver, *GOLD_ASSETS],
    asset_checks=[gold_freshness],
    jobs=[pipeline_job, bronze_job, history_job, history_fetch, freshness_job, retention_job],
    schedules=[hourly_pipeline, freshness_schedule, weekly_retention],
    sensors=[kafka_lag_sensor, late_data_automation, run_failure_alert, history_fetched],
    resources=build_resources(DEFINITION_SETTINGS),
)
