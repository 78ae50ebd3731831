"""Sensors: Kafka lag → bronze, and declarative automation for late data (older days re-materialized)."""

import json

import dagster as dg

from weather_platform.automation.jobs import bronze_job
from weather_platform.resources import KafkaResource

LAG_THRESHOLD = 100  # messages waiting for the bronze writer before a drain is worth a run


@dg.sensor(
    job=bronze_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Requests a bronze drain when the bronze consumer group lags by ≥ {LAG_THRESHOLD} messages. "
    "Reads offsets only: committing stays with the writer, after its objects are written.",
)
def kafka_lag_sensor(context: dg.SensorEvaluationContext, kafka: KafkaResource) -> dg.SensorResult | dg.SkipReason:
    ends, committed = kafka.lag_snapshot()
    lag = sum(ends[p] - committed.get(p, 0) for p in ends)
    end_total = sum(ends.values())
    requested_up_to = json.loads(context.cursor)["end_total"] if context.cursor else -1
    if lag < LAG_THRESHOLD:
        return dg.SkipReason(f"bronze group lag is {lag} (< {LAG_THRESHOLD})")
    if end_total <= requested_up_to:
        return dg.SkipReason(f"a drain up to {requested_up_to} was already requested; lag {lag}")
    return dg.SensorResult(
        # Undated: the drain writes each record into its event day and reports the days it changed.
        run_requests=[dg.RunRequest(run_key=f"bronze-lag-{end_total}", tags={"weather/kafka_lag": str(lag)})],
        cursor=json.dumps({"end_total": end_total}),
    )


late_data_automation = dg.AutomationConditionSensorDefinition(
    "late_data_automation",
    target=dg.AssetSelection.groups("silver", "gold"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Re-materializes silver and gold of any day whose bronze changed, including days other than "
    "today (the drain reports each day it wrote records into as a materialization of that day).",
)
