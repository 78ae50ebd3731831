"""History through the whole pipeline: Open-Meteo's archive (the simulator's) → Kafka → bronze → silver → gold as one
range run, and a second backfill of the same range leaves gold exactly as it was."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest
from rich.console import Console

from weather_platform.history import run_backfill
from weather_platform.sources.simulator import find_city, hourly_precipitation
from weather_platform_tests.e2e.conftest import Pipeline

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
    url = p.simulator.url
    settings = p.settings.model_copy(
        update={"open_meteo_forecast_url": url, "open_meteo_archive_url": url, "open_meteo_geocoding_url": url}
    )
    p.set_time(datetime(2026, 3, 14, 12, tzinfo=UTC))
    quiet = Console(quiet=True)

    report, result = run_backfill(settings, p.instance, p.resources, SPAN, CITIES, quiet)
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

    again, rerun = run_backfill(settings, p.instance, p.resources, SPAN, CITIES, quiet)
    assert again.published == report.published and rerun is not None and rerun.success
    assert _gold(p) == first  # same rows, same values: the re-published hours were de-duplicated by silver
