"""`weather-platform demo`: today's data through every layer, via Dagster, then a summary of what landed where.

With the simulator as source, the hours of today that already passed are first published from the simulator's
model (what it would have answered at each hour), so the day has shape; then one live polling round and the
whole pipeline run through Dagster on the persistent instance, so the runs are in the UI afterwards.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
from rich.console import Console
from rich.table import Table

from weather_platform.settings import Settings
from weather_platform.sources.observation import Observation, from_openweather
from weather_platform.sources.simulator import current_weather, find_city
from weather_platform.streaming.producer import build_producer, send_observations

console = Console()
PSQL_EXAMPLE = "-c 'SELECT * FROM v_weather_latest'"


def backfill_today(settings: Settings, now: datetime) -> int:
    """Publish one simulated reading per city for each full hour of today before `now`."""
    observations: list[Observation] = []
    start = datetime(now.year, now.month, now.day, tzinfo=UTC)
    hour = start
    while hour < now - timedelta(minutes=10):
        for query in settings.cities:
            city = find_city(query)
            if city is not None:
                observations.append(from_openweather(current_weather(city, hour), source="simulator", ingested_at=hour))
        hour += timedelta(hours=1)
    if not observations:
        return 0
    producer = build_producer(settings.kafka_bootstrap_servers, settings.kafka_client)
    try:
        deliveries = send_observations(producer, settings.kafka_topic, observations)
    finally:
        producer.close()
    failed = [d for d in deliveries if not d.ok]
    if failed:
        raise RuntimeError(
            f"{len(failed)} of {len(deliveries)} backfill observations were not delivered: {failed[0].error}"
        )
    return len(deliveries)


def run(settings: Settings, instance: dg.DagsterInstance) -> bool:
    from weather_platform.definitions import defs

    now = datetime.now(UTC)
    today = now.date()
    if settings.uses_simulator:
        sent = backfill_today(settings, now)
        console.print(f"published {sent} simulated readings for the hours of {today} before {now:%H:%M} UTC")
    job = defs.resolve_implicit_global_asset_job_def()
    with console.status(f"materializing every asset for {today} (ingestion → bronze → silver → gold)…"):
        result = job.execute_in_process(
            partition_key=today.isoformat(),
            instance=instance,
            raise_on_error=False,
            tags={"weather/source": "demo"},
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},  # the summary says the rest
        )
    summary(result, today, settings)
    # A failed check (a configured city that delivered nothing, say) fails the demo too, not only a failed step.
    return result.success and all(e.passed for e in result.get_asset_check_evaluations())


def summary(result: dg.ExecuteInProcessResult, day: date, settings: Settings) -> None:
    table = Table(title=f"weather_platform — {day} (run {result.run_id[:8]})")
    for column in ("asset", "rows", "checks"):
        table.add_column(column)
    # The drain reports today's bronze too, before the day's own materialization re-checks it: the last result counts.
    passed: dict[tuple[str, str], bool] = {}
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.partition in (None, day.isoformat()):
            passed[(evaluation.asset_key.to_user_string(), evaluation.check_name)] = evaluation.passed
    checks: dict[str, list[str]] = {}
    for (key, name), ok in passed.items():
        checks.setdefault(key, []).append(f"{'[green]✓[/green]' if ok else '[red]✗[/red]'} {name}")
    rows: dict[str, str] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if materialization.partition not in (None, day.isoformat()):
            continue  # late rows of other days are reported by the drain as materializations of their own day
        meta = materialization.metadata
        count = meta.get("dagster/row_count") or meta.get("sent") or meta.get("messages_drained")
        rows[materialization.asset_key.to_user_string()] = str(count.value) if count is not None else "-"
    for key, shown in rows.items():
        table.add_row(key, shown, " ".join(checks.get(key, [])) or "-")
    console.print(table)
    if not result.success:
        for step in result.get_step_failure_events():
            console.print(f"[red]failed:[/red] {step.step_key}: {step.event_specific_data.error.message.strip()}")  # type: ignore[union-attr]
    console.print(
        "Where to look:\n"
        f"  Dagster UI      http://127.0.0.1:{settings.dagster_ui_port} (lineage, partitions, checks, runs)\n"
        f"  dashboard       http://{settings.api_host}:{settings.api_port}/ (the weather; REST API at /docs)\n"
        f"  bronze / silver s3://{settings.bronze_bucket}/weather/…, s3://{settings.silver_bucket}/… at "
        f"{settings.s3_endpoint_url or 'AWS S3'}\n"
        f'  gold            psql "host={settings.postgres_host} port={settings.postgres_port} '
        f'dbname={settings.postgres_db} user=weather_reader" ' + PSQL_EXAMPLE + "\n"
        "                  (the reader's password: `weather-platform stack env | grep WEATHER_READER_PASSWORD`)"
    )
