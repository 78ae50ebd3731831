"""The schedules' timing: the freshness check keeps its 15-minute cadence and never starts with the hourly run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import islice, pairwise

import dagster as dg
from dagster._utils.schedules import cron_string_iterator

from weather_platform.automation.schedules import freshness_schedule, hourly_pipeline

DAY_START = datetime(2026, 3, 29, tzinfo=UTC)  # a European DST change, which UTC schedules ignore


def _ticks(schedule: dg.ScheduleDefinition, count: int) -> list[datetime]:
    cron = schedule.cron_schedule
    assert isinstance(cron, str)
    return list(islice(cron_string_iterator(DAY_START.timestamp(), cron, "UTC"), count))


def test_the_freshness_check_runs_every_15_minutes_at_least_5_minutes_after_each_hourly_run() -> None:
    """Two run processes started at the same second took the local stack with `dagster dev` over 3 GiB; the check
    also reads gold, which the hourly run has loaded within a minute."""
    hourly = _ticks(hourly_pipeline, 24)
    freshness = _ticks(freshness_schedule, 4 * 24)

    assert {later - earlier for earlier, later in pairwise(freshness)} == {timedelta(minutes=15)}
    assert freshness[0] < DAY_START + timedelta(minutes=15)
    for tick in freshness:
        last_hourly = max(run for run in hourly if run <= tick)
        assert tick - last_hourly >= timedelta(minutes=5)
