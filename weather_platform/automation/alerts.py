"""Run failures: a `failed` row in pipeline_execution_log and, when ALERT_WEBHOOK_URL is set, a Slack-style post."""

from datetime import UTC, datetime

import dagster as dg

from weather_platform.resources import AlertWebhookResource, PostgresResource
from weather_platform.warehouse.execution_log import ExecutionLogEntry, describe_error, record


def webhook_message(job: str, partition: str | None, run_id: str, error: str) -> dict[str, str]:
    """A Slack-compatible payload (`text`); the error is the masked, shortened one of the execution log."""
    where = f" for {partition}" if partition else ""
    return {"text": f":red_circle: weather_platform: run of `{job}`{where} failed ({run_id[:8]}): {error[:500]}"}


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records every failed run in pipeline_execution_log and posts to ALERT_WEBHOOK_URL when set.",
)
def run_failure_alert(
    context: dg.RunFailureSensorContext, postgres: PostgresResource, alert_webhook: AlertWebhookResource
) -> None:
    run = context.dagster_run
    partition = run.tags.get("dagster/partition")
    error = describe_error(RuntimeError(context.failure_event.message or "run failed"))
    stats = context.instance.get_run_stats(run.run_id)
    started = datetime.fromtimestamp(stats.start_time, UTC) if stats.start_time else datetime.now(UTC)
    finished = datetime.now(UTC)
    postgres.require_current_schema()
    with postgres.connect(autocommit=True) as conn:
        record(
            conn,
            ExecutionLogEntry(
                run_id=run.run_id,
                asset_key=f"run:{run.job_name}",
                partition_key=partition,
                status="failed",
                started_at=started,
                finished_at=finished,
                duration_seconds=(finished - started).total_seconds(),
                error_message=error,
            ),
        )
    status = alert_webhook.post(webhook_message(run.job_name, partition, run.run_id, error))
    if status is not None and status >= 400:
        context.log.warning(f"alert webhook answered HTTP {status}")
