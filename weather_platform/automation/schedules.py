"""Schedules: the hourly pipeline for the current UTC day."""

from datetime import UTC, datetime

import dagster as dg

from weather_platform.automation.jobs import pipeline_job
from weather_platform.checks.freshness import gold_freshness


@dg.schedule(
    job=pipeline_job,
    cron_schedule="0 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every hour: poll the API, then refresh bronze, silver and gold for today (UTC).",
)
def hourly_pipeline(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    tick = context.scheduled_execution_time or datetime.now(UTC)
    day = tick.astimezone(UTC).date().isoformat()
    return dg.RunRequest(run_key=f"hourly-{tick:%Y-%m-%dT%H}", partition_key=day)


freshness_job = dg.define_asset_job(
    "gold_freshness",
    selection=dg.AssetSelection.checks(gold_freshness),
    description="Evaluates the gold freshness check on its own.",
)

# Every 15 minutes, 7 minutes off the hourly run: at :00 both would start a run process (~0.35 GiB each) at once,
# which takes the local stack with `dagster dev` near its 3 GiB (3.3 GiB seen with a run beside a benchmark cycle);
# at :07 the hourly run has loaded gold.
freshness_schedule = dg.ScheduleDefinition(
    name="gold_freshness_every_15_minutes",
    job=freshness_job,
    cron_schedule="7-59/15 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every 15 minutes: is the newest gold observation fresh (WARN > 2 h, ERROR > 6 h)?",
)
