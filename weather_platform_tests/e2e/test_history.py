"""History through the whole pipeline: Open-Meteo's archive (the simulator's) → Kafka → bronze → silver → gold as one
range run, and a second backfill of the same range leaves gold exactly as it was."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

import dagster as dg
import pytest
from rich.console import Console

from weather_platform.assets.bronze import kafka_drain, weather_raw
from weather_platform.assets.gold import GOLD_ASSETS
from weather_platform.assets.silver import silver
from weather_platform.automation.history import FETCH_OP, history_fetch, history_fetched
from weather_platform.automation.jobs import history_job
from weather_platform.history import RANGE_END, RANGE_START, run_backfill
from weather_platform.sources.simulator import Fault, find_city, hourly_precipitation
from weather_platform_tests.e2e.conftest import Pipeline, simulator_endpoints

pytestmark = pytest.mark.e2e
SPAN = (date(2026, 3, 10), date(2026, 3, 12))
CITIES = ["London,GB", "Paris,FR", "Tokyo,JP"]  # the pipeline's configured cities: coverage passes


def _gold(p: Pipeline) -> tuple[object, ...]:
    with p.resources["postgres"].connect() as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT (city, timestamp)), round(sum(temperature)::numeric, 6), "
            "round(sum(coalesce(rain_1h, 0))::numeric, 6), min(date), max(date), count(DISTINCT source) "
            "FROM gold_weather_detailed"
        ).fetchone()
        daily = conn.execute(
            "SELECT city, date, observation_count, hours_observed, round(total_rain_mm::numeric, 6) "
            "FROM gold_weather_daily_aggregates ORDER BY 1, 2"
        ).fetchall()
    assert row is not None
    return (*row, tuple(daily))


def test_a_backfilled_range_reaches_gold_once_and_a_second_run_changes_nothing(pipeline: Pipeline) -> None:
    p = pipeline
    p.set_time(datetime(2026, 3, 14, 12, tzinfo=UTC))
    quiet = Console(quiet=True)

    report, result = run_backfill(p.instance, p.resources, SPAN, CITIES, quiet)
    assert report.published == 3 * 3 * 24 and report.failed == {} and report.rejected_hours == 0
    assert result is not None and result.success
    evaluations = result.get_asset_check_evaluations()
    assert {e.partition for e in evaluations} == {"2026-03-10", "2026-03-11", "2026-03-12"}
    assert all(e.passed for e in evaluations), [(e.check_name, e.partition) for e in evaluations if not e.passed]
    first = _gold(p)
    count, distinct, _, rain, low, high, sources, daily = first
    assert (count, distinct, low, high, sources) == (216, 216, SPAN[0], SPAN[1], 1)
    assert all(row[2] == 24 and row[3] == 24 for row in daily)  # each city, each day: 24 hours, each once
    # every archived hour's rain reached gold once: the simulator's own accumulations of the hours before each T
    expected, closed_in_range = 0.0, 0.0
    for query in CITIES:
        city = find_city(query)
        assert city is not None
        start = int(datetime(2026, 3, 10, tzinfo=UTC).timestamp())
        for hour in range(3 * 24):
            falling = hourly_precipitation(city, start + 3600 * (hour - 1))
            expected += falling.amount_mm if falling.kind == "Rain" else 0.0
            # The value stamped 00:00 on the 10th closes the 9th's last hour; the 12th's last hour is closed by
            # the 13th's midnight, which the range does not hold: the days' totals are the hours 01:00 … 23:00.
            closed_in_range += falling.amount_mm if falling.kind == "Rain" and hour > 0 else 0.0
    assert float(str(rain)) == pytest.approx(expected) and expected > 0
    assert math.fsum(float(str(r[4])) for r in daily) == pytest.approx(closed_in_range, abs=1e-5)

    again, rerun = run_backfill(p.instance, p.resources, SPAN, CITIES, quiet)
    assert again.published == report.published and rerun is not None and rerun.success
    assert _gold(p) == first  # same rows, same values: the re-published hours were de-duplicated by silver


def test_from_the_ui_the_fetch_job_publishes_and_its_sensor_launches_the_range_run(pipeline: Pipeline) -> None:
    p = pipeline
    p.set_time(datetime(2026, 3, 14, 12, tzinfo=UTC))
    defs = dg.Definitions(
        assets=[kafka_drain, weather_raw, silver, *GOLD_ASSETS],
        jobs=[history_fetch, history_job],
        sensors=[history_fetched],
        resources=p.resources,
    )
    config = {"start": "2026-03-10", "end": "2026-03-11", "cities": [*CITIES, "Atlantis,XX"]}
    fetched = defs.resolve_job_def("history_fetch").execute_in_process(
        instance=p.instance, run_config={"ops": {FETCH_OP: {"config": config}}}
    )
    assert fetched.success
    (published,) = [e for e in fetched.all_events if e.is_successful_output]
    metadata = published.step_output_data.metadata
    assert (metadata["published"].value, metadata["failed_cities"].value) == (2 * 3 * 24, "Atlantis,XX")

    # What the daemon does when the fetch run succeeds: evaluate the run-status sensor on it.
    context = dg.build_run_status_sensor_context(
        sensor_name=history_fetched.name,
        dagster_event=fetched.get_run_success_event(),
        dagster_instance=p.instance,
        dagster_run=fetched.dagster_run,
    )
    request = history_fetched(context)
    assert isinstance(request, dg.RunRequest)
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2026-03-10", "2026-03-11")
    result = defs.resolve_job_def("history_backfill").execute_in_process(instance=p.instance, tags=request.tags)
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert {e.partition for e in evaluations} == {"2026-03-10", "2026-03-11"} and all(e.passed for e in evaluations)
    count, distinct, *_ = _gold(p)
    assert count == distinct == 2 * 3 * 24  # drained by the range run itself, then silver and gold


KILL_SPAN = (date(2026, 2, 27), date(2026, 3, 2))  # two months: two archive chunks per city
KILL_HOURS = 3 * 4 * 24


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def test_a_backfill_killed_midway_and_run_again_loses_and_duplicates_nothing(pipeline: Pipeline) -> None:
    p = pipeline
    p.set_time(datetime(2026, 3, 14, 12, tzinfo=UTC))
    topics_and_buckets = ("kafka_topic", "kafka_dlq_topic", "bronze_bucket", "silver_bucket", "weather_cities")
    names = (*topics_and_buckets, *simulator_endpoints(p.simulator))
    spec = {
        "settings": {name: getattr(p.settings, name) for name in names},
        "group": p.lane.group,
        "schema": p.lane.schema,
        "start": KILL_SPAN[0].isoformat(),
        "end": KILL_SPAN[1].isoformat(),
        "cities": CITIES,
    }

    def backfill() -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "weather_platform_tests.e2e.backfill_process", json.dumps(spec)]
        return subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def kill(child: subprocess.Popen[bytes]) -> None:
        os.killpg(child.pid, signal.SIGKILL)  # the process and its Spark JVM, with no chance to clean up
        child.wait(timeout=30)

    def published() -> int:
        return sum(p.resources["kafka"].lag_snapshot()[0].values())

    def silver_objects() -> int:
        return int(p.s3.list_objects_v2(Bucket=p.settings.silver_bucket).get("KeyCount", 0))

    # 1. Killed while publishing: each archive answer takes a second, the kill lands after the first chunk.
    p.simulator.faults.set(Fault(delay_seconds=1.0))
    first = backfill()
    _wait_until(lambda: published() > 0, "the first chunk is published")
    kill(first)
    assert 0 < published() < KILL_HOURS
    p.simulator.faults.clear()
    # 2. Killed inside the Dagster run, once silver has begun to write.
    second = backfill()
    _wait_until(lambda: silver_objects() > 0, "silver writes its first day")
    kill(second)
    # 3. Run to the end.
    third = backfill()
    _, errors = third.communicate(timeout=600)
    assert third.returncode == 0, errors.decode()[-3000:]

    count, distinct, _, _, low, high, sources, daily = _gold(p)
    assert (count, distinct, low, high, sources) == (KILL_HOURS, KILL_HOURS, *KILL_SPAN, 1)
    assert published() > KILL_HOURS  # hours were published more than once, and still reached gold once
    assert len(daily) == 3 * 4 and all(row[2] == 24 and row[3] == 24 for row in daily)
