"""History backfill end to end: N days x M places of Open-Meteo's hourly archive (the stack's simulator) → Kafka →
bronze → silver → gold, as `weather-platform backfill` runs it, with the time and messages/s of each stage.

    python -m weather_platform_tests.benchmarks.bench_history [--days 365] [--cities 100] [--end 2026-11-30]

The places are given with coordinates (`Place<i>,XX@lat,lon`, spread over the globe), so the archive answers each
from its model without the geocoder. Everything runs in a fresh topic pair, bucket pair, consumer group and
warehouse schema on the local stack (`eval "$(weather-platform stack env)"`), removed afterwards. Stage times come
from the run's own step events. Figures are reported, never asserted (docs/DESIGN.md §7); the target is the
issue's: a year of 100 places (876,000 observations) in < 15 min on this 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from datetime import date, timedelta

import dagster as dg
import psycopg
from psycopg import sql
from rich.console import Console

from weather_platform.history import run_backfill
from weather_platform.settings import Settings, load_settings
from weather_platform_tests.lanes import Lane


def places(count: int) -> list[str]:
    """`count` places with coordinates spread over the inhabited latitudes and every longitude."""
    return [f"Place{i},XX@{-55 + (i * 37) % 125:.2f},{-180 + (i * 97) % 360:.2f}" for i in range(count)]


def step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Seconds from each step's start to its success, from the run's event log."""
    started: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[event.step_key] = entry.timestamp
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            seconds[event.step_key] = entry.timestamp - started[event.step_key]
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--cities", type=int, default=100)
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 30), help="last day, YYYY-MM-DD")
    parser.add_argument("--limit-seconds", type=float, default=900.0, help="the target for the whole backfill")
    args = parser.parse_args(argv)

    base: Settings = load_settings()
    span = (args.end - timedelta(days=args.days - 1), args.end)
    cities = places(args.cities)
    # The archive through the weather_api resource; the coverage check expects exactly these places.
    lane = Lane.named(base, "bench-history", uuid.uuid4().hex[:10], weather_source="open-meteo",
                      weather_cities=";".join(cities))  # fmt: skip
    with lane.provisioned():
        resources = lane.resources()
        expected = args.days * args.cities * 24
        print(f"history backfill {span[0]} … {span[1]}: {args.days} days x {args.cities} places x 24 h = "
              f"{expected:,} observations; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
        with dg.instance_for_test() as instance:
            started = time.perf_counter()
            report, result = run_backfill(instance, resources, span, cities, Console(stderr=True))
            total = time.perf_counter() - started
            steps = step_seconds(instance, result.run_id) if result is not None else {}
        evaluations = result.get_asset_check_evaluations() if result is not None else []
        failed = sorted({(e.check_name, e.partition) for e in evaluations if not e.passed})
        with psycopg.connect(**base.postgres_connect_kwargs(), autocommit=True) as conn:
            gold = conn.execute(
                sql.SQL("SELECT count(*), count(DISTINCT (city, timestamp)), count(DISTINCT date) FROM {}").format(
                    sql.Identifier(lane.schema, "gold_weather_detailed")
                )
            ).fetchone()
        gold_steps = sum(v for k, v in steps.items() if k.startswith("gold__"))
        stages = [
            ("fetch archive + publish to Kafka", report.seconds),
            ("drain Kafka → bronze (bronze/kafka_drain)", steps.get("bronze__kafka_drain", 0.0)),
            ("bronze days: repair + checks (bronze/weather_raw)", steps.get("bronze__weather_raw", 0.0)),
            ("silver: clean + aggregates + checks", steps.get("silver", 0.0)),
            ("gold: three tables, per-day replace + checks", gold_steps),
        ]
        print(f"{'stage':<52} {'seconds':>9} {'observations/s':>15}")
        for name, seconds in stages:
            rate = f"{expected / seconds:,.0f}" if seconds else "-"
            print(f"{name:<52} {seconds:>9.1f} {rate:>15}")
        print(f"{'whole backfill (wall)':<52} {total:>9.1f} {expected / total:>15,.0f}")
        outcome = "succeeded" if result is not None and result.success else "FAILED"
        print(f"  published {report.published:,}, failed places {len(report.failed)}, undelivered "
              f"{report.undelivered}; run {outcome}")  # fmt: skip
        print(f"  check results: {len(evaluations)} over {len({e.partition for e in evaluations})} days, failed "
              f"{failed[:5] or 'none'}{' …' if len(failed) > 5 else ''}")  # fmt: skip
        if gold:
            print(f"  gold_weather_detailed: {gold[0]:,} rows, {gold[1]:,} distinct (place, hour), {gold[2]} days")
        print(f"  ratio to the {args.limit_seconds:.0f} s target: {total / args.limit_seconds:.2f}")


if __name__ == "__main__":
    main()
