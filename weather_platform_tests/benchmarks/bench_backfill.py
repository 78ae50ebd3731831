"""Backfill through Dagster: N days x M cities of hourly bronze through silver and gold as one range run.

    python -m weather_platform_tests.benchmarks.bench_backfill [--days 30] [--cities 1000]

Seeds bronze (one reading per city and hour, as the bronze writer lays it out) in a fresh bucket pair on the
configured S3 server and a fresh warehouse schema (the local stack: `eval "$(weather-platform stack env)"`), then
materializes silver and gold for the whole range in one Dagster run (`BackfillPolicy.single_run()`), as a backfill
from the UI does, in a process of its own as the daemon launches a run, and reports it beside the limit: one plain
Spark job that reads the same bronze days and writes them back as Parquet (its Spark session start timed apart; the
run's is in the run's time, as it is for a launched run). Figures are reported, never asserted (docs/DESIGN.md §7).
With `--dagster-dev`, `dagster dev` runs beside the stack (as in `make demo`) and the memory of the whole local
stack is sampled during the range run, as `bench_hourly` samples it during a cycle (issue 16: peak < 3 GiB).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import sql

from weather_platform.connections import s3_client
from weather_platform.lake.layout import bronze_day_url
from weather_platform.lake.spark_config import build_spark_session
from weather_platform.settings import Settings, load_settings
from weather_platform_tests.benchmarks import stack_memory as memory
from weather_platform_tests.benchmarks.bench_silver import (
    WEATHER,
    _ints,
    _iso,
    _uniform,
    bronze_object,
    raw_json,
)
from weather_platform_tests.benchmarks.summary import Row, record
from weather_platform_tests.lanes import Lane

FIRST_DAY = date(2025, 6, 1)  # within the default WEATHER_PARTITIONS_START (2025-01-01)
TOPIC = "weather-data"
# The range run, in a child process as the daemon launches a run (the memory sampled is a run's, not this seeding
# process's): silver and gold of the range on a throwaway instance, with the lane's resources.
RANGE_RUN = """
import json, sys, time
import dagster as dg
from weather_platform.assets.bronze import weather_raw
from weather_platform.assets.gold import GOLD_ASSETS
from weather_platform.assets.silver import silver
from weather_platform.settings import load_settings
from weather_platform_tests.lanes import Lane
lane = json.loads(sys.stdin.read())  # on stdin: WEATHER_CITIES of many cities outgrows one argument
resources = Lane.named(load_settings(), lane["prefix"], lane["unique"], weather_cities=lane["cities"]).resources()
with dg.instance_for_test() as instance:
    started = time.perf_counter()
    result = dg.materialize([weather_raw, silver, *GOLD_ASSETS], selection=[silver, *GOLD_ASSETS], tags=lane["tags"],
                            resources=resources, instance=instance, raise_on_error=False)
    seconds = time.perf_counter() - started
    runs = len(instance.get_run_records())
evaluations = result.get_asset_check_evaluations()
print(json.dumps({"seconds": seconds, "success": result.success, "runs": runs, "checks": len(evaluations),
                  "days": len({e.partition for e in evaluations}),
                  "failed": [[e.asset_key.to_user_string(), e.check_name, e.partition]
                             for e in evaluations if not e.passed]}))
"""
KAFKA_PARTITIONS = 4


def day_columns(day: date, cities: int, seed: int) -> dict[str, pa.Array]:
    """One reading per city and UTC hour of `day` (at a city-specific minute), with plausible values."""
    n = cities * 24
    city = pa.array([i // 24 for i in range(n)], pa.int64())
    hour = pa.array([i % 24 for i in range(n)], pa.int64())
    midnight = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    seconds = pc.add(pc.add(pc.multiply(hour, 3600), pc.multiply(pc.remainder(city, 50), 60)), midnight)
    names = pc.binary_join_element_wise("City", pc.cast(city, pa.string()), "")
    temperature = _uniform(n, -15.0, 38.0, seed + 1)
    weather = pc.take(pa.array(WEATHER), _ints(n, 0, len(WEATHER) - 1, seed + 4))
    return {
        "schema_version": pa.array([1] * n, pa.int64()),
        "source": pa.array(["simulator"] * n),
        "city": names,
        "country": pa.array(["XX"] * n),
        "city_id": pc.add(city, 1_000_000),
        "latitude": pc.subtract(pc.divide(pc.cast(pc.remainder(city, 170), pa.float64()), 1.0), 85.0),
        "longitude": pc.subtract(pc.cast(pc.remainder(city, 360), pa.float64()), 180.0),
        "timestamp": _iso(seconds),
        "ingested_at": _iso(pc.add(seconds, 30)),
        "temperature": temperature,
        "feels_like": pc.subtract(temperature, 1.0),
        "temp_min": pc.subtract(temperature, 1.5),
        "temp_max": pc.add(temperature, 1.5),
        "pressure": _ints(n, 980, 1040, seed + 6),
        "sea_level": _ints(n, 980, 1040, seed + 7),
        "grnd_level": _ints(n, 900, 1030, seed + 8),
        "humidity": _ints(n, 5, 100, seed + 3),
        "visibility": _ints(n, 1000, 10000, seed + 9),
        "wind_speed": _uniform(n, 0.0, 20.0, seed + 11),
        "wind_deg": _ints(n, 0, 359, seed + 12),
        "wind_gust": _uniform(n, 0.0, 30.0, seed + 13),
        "clouds": _ints(n, 0, 100, seed + 15),
        "rain_1h": _uniform(n, 0.0, 2.0, seed + 16),
        "snow_1h": pa.nulls(n, pa.float64()),
        "weather_main": weather,
        "weather_description": pc.utf8_lower(weather),
        "weather_icon": pa.array(["03d"] * n),
        "sunrise": _iso(pa.array([midnight + 4 * 3600] * n, pa.int64())),
        "sunset": _iso(pa.array([midnight + 20 * 3600] * n, pa.int64())),
        "timezone_offset": pa.array([0] * n, pa.int64()),
    }


def bronze_day(day: date, cities: int, offsets: dict[int, int]) -> list[tuple[str, bytes]]:
    """The day's objects, one per Kafka partition, named by coordinates that continue `offsets` (updated)."""
    columns = day_columns(day, cities, seed=day.toordinal())
    columns["raw_json"] = raw_json(columns)
    ingested = pc.strptime(columns["ingested_at"], format="%Y-%m-%dT%H:%M:%SZ", unit="ms")
    columns["kafka_timestamp"] = pc.cast(ingested, pa.timestamp("ms", tz="UTC"))
    columns["kafka_key"] = pc.binary_join_element_wise(columns["city"], columns["country"], ",")
    table = pa.table(columns)
    partition_of = pc.remainder(columns["city_id"], KAFKA_PARTITIONS)
    objects = []
    for partition in range(KAFKA_PARTITIONS):
        records = table.filter(pc.equal(partition_of, partition))
        first = offsets.get(partition, 0)
        offsets[partition] = first + records.num_rows
        objects.append(bronze_object(records, day, partition, first))
    return objects


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--cities", type=int, default=1000)
    parser.add_argument("--limit-seconds", type=float, default=300.0, help="the target for the range run")
    parser.add_argument("--dagster-dev", action="store_true", help="run dagster dev beside it and sample memory")
    args = parser.parse_args(argv)
    with memory.dagster_dev() if args.dagster_dev else memory.nothing() as dev_pid:
        _backfill(args, dev_pid)


def _backfill(args: argparse.Namespace, dev_pid: int | None) -> None:
    base: Settings = load_settings()
    s3 = s3_client(base)
    # The coverage check expects the bench's cities, as WEATHER_CITIES would name them.
    cities = ";".join(f"City{i},XX" for i in range(args.cities))
    named = {"prefix": "bench-backfill", "unique": uuid.uuid4().hex[:10]}
    lane = Lane.named(base, named["prefix"], named["unique"], weather_cities=cities)
    settings = lane.settings
    days = [FIRST_DAY + timedelta(days=i) for i in range(args.days)]
    with lane.provisioned(topics=False):
        started = time.perf_counter()
        offsets: dict[int, int] = {}
        objects = [o for day in days for o in bronze_day(day, args.cities, offsets)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda o: s3.put_object(Bucket=settings.bronze_bucket, Key=o[0], Body=o[1]), objects))
        rows = args.days * args.cities * 24
        megabytes = sum(len(body) for _, body in objects) / 1e6
        print(f"bronze: {args.days} days x {args.cities} cities x 24 h = {rows:,} observations, {len(objects)} "
              f"objects, {megabytes:.0f} MB, seeded in {time.perf_counter() - started:.1f} s")  # fmt: skip
        print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

        started = time.perf_counter()
        spark = build_spark_session(settings, "bench-backfill-limit")
        print(f"Spark session start of the limit (not in its figure): {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        plain = spark.read.parquet(*(bronze_day_url(settings.bronze_bucket, day) for day in days))
        plain.write.mode("overwrite").parquet(f"s3a://{settings.silver_bucket}/plain-copy/")
        limit = time.perf_counter() - started
        print(f"limit: one plain Spark job reading the {args.days} bronze days and writing them back: {limit:.1f} s "
              f"({rows / limit:,.0f} rows/s)")  # fmt: skip

        tags = {
            "dagster/asset_partition_range_start": days[0].isoformat(),
            "dagster/asset_partition_range_end": days[-1].isoformat(),
        }
        child = subprocess.Popen(
            [sys.executable, "-c", RANGE_RUN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        roots = {**memory.service_roots(), "dagster dev": [dev_pid] if dev_pid else [], "run": [child.pid]}
        sampler = memory.MemorySampler(roots)
        idle = sampler.sample()
        with sampler:
            stdout, stderr = child.communicate(json.dumps({**named, "cities": cities, "tags": tags}))
        lines = [line for line in stdout.splitlines() if line.startswith("{")]
        if child.returncode != 0 or not lines:
            raise RuntimeError(f"the range run failed: {stderr[-3000:]}")
        run = json.loads(lines[-1])
        seconds, success, runs = run["seconds"], run["success"], run["runs"]
        failed = [tuple(check) for check in run["failed"]]
        with psycopg.connect(**base.postgres_connect_kwargs(), autocommit=True) as conn:
            gold = conn.execute(
                sql.SQL("SELECT count(*), count(DISTINCT date) FROM {}").format(
                    sql.Identifier(lane.schema, "gold_weather_detailed")
                )
            ).fetchone()
        print(f"range run through Dagster (silver + gold, {args.days} days): {seconds:.1f} s "
              f"({rows / seconds:,.0f} observations/s); success {success}; runs {runs}")  # fmt: skip
        if dev_pid:
            print(f"  memory: {memory.peak_line(idle, sampler.peak)}")
            record(Row(f"peak RSS, stack + dagster dev, backfill {args.days} d", "during the range run",
                       "target 3 GiB", sampler.peak["rss"] / memory.GIB, memory.TARGET_PEAK_GIB, higher_is_better=False,
                       unit="GiB"))  # fmt: skip
        print(f"  check results: {run['checks']} over {run['days']} days, failed {failed or 'none'}")
        print(f"  gold_weather_detailed: {gold[0] if gold else 0:,} rows over {gold[1] if gold else 0} days")
        print(f"  ratio to the plain Spark job: {seconds / limit:.2f}; to the {args.limit_seconds:.0f} s target: "
              f"{seconds / args.limit_seconds:.2f}")  # fmt: skip
        complete = success and not failed and gold is not None and gold[0] == rows
        project = f"one range run: {seconds:.1f} s, {gold[0] if gold else 0:,} gold rows, failed checks {len(failed)}"
        record(Row(f"backfill {args.days} d x {args.cities:,} cities, silver + gold", project,
                   f"plain Spark job over the same days: {limit:.1f} s", seconds if complete else float("inf"),
                   args.limit_seconds, higher_is_better=False, unit="s"))  # fmt: skip
        spark.stop()


if __name__ == "__main__":
    main()
