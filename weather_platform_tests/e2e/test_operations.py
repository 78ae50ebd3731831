"""Operating the platform: retention (dry run, then exactly the expired data), run-failure alerts, freshness."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from weather_platform.assets.bronze import weather_raw
from weather_platform.assets.gold import gold_weather_detailed
from weather_platform.assets.silver import silver
from weather_platform.automation.alerts import run_failure_alert
from weather_platform.automation.retention import retention_job
from weather_platform.checks.freshness import gold_freshness
from weather_platform.lake.layout import BronzeObject, silver_day_prefix
from weather_platform.resources import AlertWebhookResource
from weather_platform.warehouse.migrations import migrate
from weather_platform_tests.e2e.conftest import Pipeline

pytestmark = pytest.mark.e2e


def _keys(p: Pipeline, bucket: str) -> set[str]:
    pages = p.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def _gold_days(p: Pipeline) -> list[date]:
    with p.resources["postgres"].connect() as conn:
        return [d for (d,) in conn.execute("SELECT date FROM gold_weather_daily_aggregates ORDER BY date")]


def test_retention_dry_run_lists_and_real_run_deletes_exactly_the_expired(pipeline: Pipeline) -> None:
    today = datetime.now(UTC).date()
    bronze_old, bronze_young = today - timedelta(days=31), today - timedelta(days=30)
    silver_old, silver_young = today - timedelta(days=91), today - timedelta(days=90)
    gold_old, gold_young = today - timedelta(days=366), today - timedelta(days=365)
    for day in (bronze_old, bronze_young):
        pipeline.s3.put_object(
            Bucket=pipeline.settings.bronze_bucket, Key=BronzeObject(day, "t", 0, 1, 2).key, Body=b"x"
        )
    for day in (silver_old, silver_young):
        for dataset in ("weather_cleaned", "weather_daily_agg"):
            key = silver_day_prefix(dataset, day) + "part-0.parquet"
            pipeline.s3.put_object(Bucket=pipeline.settings.silver_bucket, Key=key, Body=b"x")
    with pipeline.resources["postgres"].connect(autocommit=True) as conn:
        migrate(conn)
        for day in (gold_old, gold_young):
            conn.execute(
                "INSERT INTO gold_weather_daily_aggregates (city, country, date, observation_count, dagster_run_id) "
                "VALUES ('Oslo', 'NO', %s, 1, 'seed')",
                (day,),
            )
    bronze_before, silver_before = (
        _keys(pipeline, pipeline.settings.bronze_bucket),
        _keys(pipeline, pipeline.settings.silver_bucket),
    )

    def run(dry_run: bool) -> dict[str, int]:
        result = retention_job.execute_in_process(
            run_config={"ops": {"apply_retention": {"config": {"dry_run": dry_run}}}},
            resources=pipeline.resources,
            instance=pipeline.instance,
        )
        assert result.success
        return dict(result.output_for_node("apply_retention"))

    planned = run(dry_run=True)
    assert (planned["bronze_objects"], planned["silver_objects"], planned["gold_weather_daily_aggregates_rows"]) == (
        1,
        2,
        1,
    )
    assert _keys(pipeline, pipeline.settings.bronze_bucket) == bronze_before  # a dry run deletes nothing
    assert _keys(pipeline, pipeline.settings.silver_bucket) == silver_before
    assert _gold_days(pipeline) == [gold_old, gold_young]

    done = run(dry_run=False)
    assert (done["bronze_objects"], done["silver_objects"], done["gold_weather_daily_aggregates_rows"]) == (1, 2, 1)
    assert _keys(pipeline, pipeline.settings.bronze_bucket) == {BronzeObject(bronze_young, "t", 0, 1, 2).key}
    assert {k.split("/day=")[0] for k in _keys(pipeline, pipeline.settings.silver_bucket)} == {
        silver_day_prefix(d, silver_young).split("/day=")[0] for d in ("weather_cleaned", "weather_daily_agg")
    }
    assert all(f"day={silver_young:%d}" in k for k in _keys(pipeline, pipeline.settings.silver_bucket))
    assert _gold_days(pipeline) == [gold_young]


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, str]]]]:
    received: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()


def test_failed_run_is_logged_and_posted_without_secrets(
    pipeline: Pipeline, webhook: tuple[str, list[dict[str, str]]]
) -> None:
    url, received = webhook
    failed = dg.materialize(
        [weather_raw, silver, gold_weather_detailed], selection=[gold_weather_detailed], partition_key="2026-03-14",
        resources=pipeline.resources,
        instance=pipeline.instance, raise_on_error=False,
    )  # fmt: skip
    assert not failed.success  # silver has nothing for that day
    failure_event = next(e for e in failed.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    run = pipeline.instance.get_run_by_id(failed.run_id)
    assert run is not None
    with dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert",
        dagster_instance=pipeline.instance,
        dagster_run=run,
        dagster_event=failure_event,
        resources={"postgres": pipeline.resources["postgres"], "alert_webhook": AlertWebhookResource(url=url)},
    ) as context:
        run_failure_alert(context.for_run_failure())

    with pipeline.resources["postgres"].connect() as conn:
        rows = conn.execute(
            "SELECT asset_key, partition_key, status FROM pipeline_execution_log WHERE run_id = %s", (failed.run_id,)
        ).fetchall()
    assert ("run:__ephemeral_asset_job__", "2026-03-14", "failed") in rows
    assert len(received) == 1 and "failed" in received[0]["text"] and "2026-03-14" in received[0]["text"]
    assert pipeline.settings.secret("postgres_password") not in json.dumps(received)


@pytest.mark.parametrize(("age", "passed", "severity"), [
    (timedelta(hours=1), True, dg.AssetCheckSeverity.WARN),
    (timedelta(hours=3), False, dg.AssetCheckSeverity.WARN),
    (timedelta(hours=7), False, dg.AssetCheckSeverity.ERROR),
])  # fmt: skip
def test_freshness_warns_after_two_hours_and_errors_after_six(
    pipeline: Pipeline, age: timedelta, passed: bool, severity: dg.AssetCheckSeverity
) -> None:
    moment = datetime.now(UTC) - age
    pipeline.set_time(moment)
    day = moment.date().isoformat()
    from weather_platform.assets.bronze import kafka_drain
    from weather_platform.assets.gold import GOLD_ASSETS
    from weather_platform.assets.ingestion import weather_events

    assets = [weather_events, kafka_drain, weather_raw, silver, *GOLD_ASSETS]
    assert dg.materialize(assets, partition_key=day, resources=pipeline.resources, instance=pipeline.instance).success
    result = gold_freshness(postgres=pipeline.resources["postgres"])
    assert (result.passed, result.severity) == (passed, severity)
