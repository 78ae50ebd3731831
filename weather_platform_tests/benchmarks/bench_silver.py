"""Silver throughput beside its limit: one bronze day of realistic records through `process_day`, and a plain Spark
read + Parquet write of the same day, each in a fresh process and JVM on `local[2]`, in bronze rows/s.

    python -m weather_platform_tests.benchmarks.bench_silver [--rows 1000000] [--runs 3]

Seeds the day in a fresh bucket pair on the configured S3 server (the local stack: `eval "$(weather-platform stack
env)"`), with ~2 % re-delivered duplicates and ~1.5 % invalid records, spread over several bronze objects as the
bronze writer names them. The Spark session start (JVM, jars) is outside the figures on both sides. Run 1 is a cold
JVM (what a fresh run process sees), later runs re-process the same day (an idempotent re-run on a warm JVM).
Figures are reported, never asserted (docs/DESIGN.md §7).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from weather_platform.connections import s3_client
from weather_platform.lake.layout import BronzeObject, bronze_day_url, s3a_url
from weather_platform.lake.silver_writer import process_day
from weather_platform.lake.spark_config import build_spark_session
from weather_platform.settings import Settings, load_settings
from weather_platform.sources.simulator import CITIES
from weather_platform.streaming.bronze_writer import BRONZE_SCHEMA
from weather_platform_tests.benchmarks.summary import Row, record
from weather_platform_tests.lanes import empty_bucket

DAY = date(2024, 7, 15)
TOPIC = "weather-data"
KAFKA_PARTITIONS = 4
ROWS_PER_OBJECT = 50_000
DUPLICATE_SHARE = 0.02
WEATHER = ("Clear", "Clouds", "Rain", "Drizzle", "Snow", "Mist", "Thunderstorm")


def _uniform(n: int, low: float, high: float, seed: int, digits: int = 2) -> pa.Array:
    return pc.round(pc.add(pc.multiply(pc.random(n, initializer=seed), high - low), low), digits)


def _ints(n: int, low: int, high: int, seed: int) -> pa.Array:
    return pc.cast(pc.floor(pc.add(pc.multiply(pc.random(n, initializer=seed), high - low + 1), low)), pa.int64())


def _null_where(values: pa.Array, share: float, seed: int) -> pa.Array:
    return pc.if_else(pc.less(pc.random(len(values), initializer=seed), share), pa.nulls(1, values.type)[0], values)


def _iso(epoch_seconds: pa.Array) -> pa.Array:
    return pc.strftime(pc.cast(epoch_seconds, pa.timestamp("s", tz="UTC")), format="%Y-%m-%dT%H:%M:%SZ")


def observations(n_unique: int, seed: int = 7) -> dict[str, pa.Array]:
    """`n_unique` distinct (city, second) observations of DAY with plausible values; ~1.5 % break a silver rule."""
    rng = random.Random(seed)
    slots = pa.array(rng.sample(range(len(CITIES) * 86_400), n_unique), pa.int64())
    city_index = pc.divide(slots, 86_400)
    midnight = int(datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC).timestamp())
    seconds = pc.add(pc.subtract(slots, pc.multiply(city_index, 86_400)), midnight)

    def per_city(values: list[Any], kind: pa.DataType) -> pa.Array:
        return pc.take(pa.array(values, kind), city_index)

    temperature = _uniform(n_unique, -15.0, 38.0, seed + 1)
    broken = pc.random(n_unique, initializer=seed + 2)  # 0.5 % too hot, 0.5 % no temperature, 0.5 % humidity > 100
    temperature = pc.if_else(pc.less(broken, 0.005), 99.0, temperature)
    temperature = pc.if_else(pc.and_(pc.greater_equal(broken, 0.005), pc.less(broken, 0.01)), None, temperature)
    humidity = pc.if_else(pc.greater(broken, 0.995), 150, _ints(n_unique, 5, 100, seed + 3))
    weather = pc.take(pa.array(WEATHER), _ints(n_unique, 0, len(WEATHER) - 1, seed + 4))
    columns: dict[str, pa.Array] = {
        "schema_version": pa.array([1] * n_unique, pa.int64()),
        "source": pa.array(["simulator"] * n_unique),
        "city": per_city([c.name for c in CITIES], pa.string()),
        "country": per_city([c.country for c in CITIES], pa.string()),
        "city_id": per_city([c.id for c in CITIES], pa.int64()),
        "latitude": per_city([c.lat for c in CITIES], pa.float64()),
        "longitude": per_city([c.lon for c in CITIES], pa.float64()),
        "timestamp": _iso(seconds),
        "ingested_at": _iso(pc.add(seconds, 30)),
        "temperature": temperature,
        "feels_like": _uniform(n_unique, -20.0, 40.0, seed + 5),
        "temp_min": pc.subtract(temperature, 1.5),
        "temp_max": pc.add(temperature, 1.5),
        "pressure": _ints(n_unique, 980, 1040, seed + 6),
        "sea_level": _ints(n_unique, 980, 1040, seed + 7),
        "grnd_level": _ints(n_unique, 900, 1030, seed + 8),
        "humidity": humidity,
        "visibility": _null_where(_ints(n_unique, 1000, 10000, seed + 9), 0.01, seed + 10),
        "wind_speed": _uniform(n_unique, 0.0, 20.0, seed + 11),
        "wind_deg": _ints(n_unique, 0, 359, seed + 12),
        "wind_gust": _null_where(_uniform(n_unique, 0.0, 30.0, seed + 13), 0.6, seed + 14),
        "clouds": _ints(n_unique, 0, 100, seed + 15),
        "rain_1h": _null_where(_uniform(n_unique, 0.1, 8.0, seed + 16), 0.8, seed + 17),
        "snow_1h": _null_where(_uniform(n_unique, 0.1, 4.0, seed + 18), 0.95, seed + 19),
        "weather_main": weather,
        "weather_description": pc.utf8_lower(weather),
        "weather_icon": pa.array(["03d"] * n_unique),
        "sunrise": _iso(pc.add(pc.multiply(pc.divide(seconds, 86_400), 86_400), 4 * 3600)),
        "sunset": _iso(pc.add(pc.multiply(pc.divide(seconds, 86_400), 86_400), 20 * 3600)),
        "timezone_offset": per_city([c.timezone for c in CITIES], pa.int64()),
    }
    return columns


def raw_json(columns: dict[str, pa.Array]) -> pa.Array:
    """The Kafka value as the producer writes it (contract order, compact), built column-wise."""
    parts: list[Any] = []
    for i, name in enumerate(BRONZE_SCHEMA.names[:30]):
        values = columns[name]
        text = pc.cast(values, pa.string())
        if pa.types.is_string(values.type):
            text = pc.binary_join_element_wise('"', text, '"', "")
        parts += [("{" if i == 0 else ",") + f'"{name}":', text]
    return pc.binary_join_element_wise(*parts, "}", "", null_handling="replace", null_replacement="null")


def bronze_objects(n_rows: int) -> list[tuple[str, bytes]]:
    """Bronze objects for DAY holding `n_rows` records, DUPLICATE_SHARE of them re-deliveries ingested later.

    As the bronze writer lays them out: a city's records in one Kafka partition, objects of ROWS_PER_OBJECT
    consecutive offsets named by their coordinates, Snappy Parquet in the bronze schema.
    """
    n_unique = round(n_rows / (1 + DUPLICATE_SHARE))
    columns = observations(n_unique)
    redelivered = pa.array(random.Random(11).sample(range(n_unique), n_rows - n_unique), pa.int64())
    columns = {name: pa.concat_arrays([values, pc.take(values, redelivered)]) for name, values in columns.items()}
    first_ingestion = pc.strptime(columns["ingested_at"], format="%Y-%m-%dT%H:%M:%SZ", unit="s")
    later = pc.if_else(pc.greater_equal(pa.array(range(n_rows)), n_unique), 600, 0)
    ingested = pc.add(pc.cast(pc.cast(first_ingestion, pa.int64()), pa.int64()), later)
    columns["ingested_at"] = _iso(ingested)
    columns["raw_json"] = raw_json(columns)
    columns["kafka_timestamp"] = pc.cast(pc.multiply(ingested, 1000), pa.timestamp("ms", tz="UTC"))
    columns["kafka_key"] = pc.binary_join_element_wise(columns["city"], columns["country"], ",")
    table = pa.table(columns)

    objects = []
    partition_of = pc.remainder(columns["city_id"], KAFKA_PARTITIONS)
    for partition in range(KAFKA_PARTITIONS):
        records = table.filter(pc.equal(partition_of, partition))
        for first in range(0, records.num_rows, ROWS_PER_OBJECT):
            objects.append(bronze_object(records.slice(first, ROWS_PER_OBJECT), DAY, partition, first))
    return objects


def bronze_object(records: pa.Table, day: date, partition: int, first: int) -> tuple[str, bytes]:
    """(key, Parquet bytes) of the bronze object holding `records` at offsets `first`… of a Kafka partition."""
    last = first + records.num_rows - 1
    key = BronzeObject(day, TOPIC, partition, first, last).key
    lineage = {
        "kafka_topic": pa.array([TOPIC] * records.num_rows),
        "kafka_partition": pa.array([partition] * records.num_rows, pa.int32()),
        "kafka_offset": pa.array(range(first, last + 1), pa.int64()),
        "bronze_object": pa.array([key] * records.num_rows),
    }
    for name, values in lineage.items():
        records = records.append_column(name, values)
    sink = io.BytesIO()
    pq.write_table(records.select(BRONZE_SCHEMA.names).cast(BRONZE_SCHEMA), sink, compression="snappy")
    return key, sink.getvalue()


def _phase(args: argparse.Namespace) -> None:
    """One side of the comparison in this process's own JVM (local[2], never the Spark Connect server): `silver`
    runs `process_day`, `limit` a plain Spark read of the same bronze day and a Parquet write of it, `--runs`
    times each; prints one JSON line of the seconds of each run."""
    settings = load_settings().model_copy(update={"spark_master": "local[2]", "spark_remote": None})
    spark = build_spark_session(settings, f"bench_silver_{args.phase}")
    seconds: list[float] = []
    counts = set()
    try:
        for _ in range(args.runs):
            if args.phase == "silver":
                result = process_day(spark, settings, DAY, bronze_bucket=args.bronze, silver_bucket=args.silver)
                seconds.append(result.spark_seconds)
                counts.add((result.rows_out, tuple(result.dropped.items()), result.daily_rows, result.hourly_rows))
                print(
                    f"  silver: {result.rows_in:,} in, {result.rows_out:,} out, dropped {result.dropped}; "
                    f"{result.daily_rows} daily and {result.hourly_rows} hourly rows",
                    file=sys.stderr,
                )
            else:
                started = time.perf_counter()
                frame = spark.read.parquet(bronze_day_url(args.bronze, DAY))
                frame.write.mode("overwrite").parquet(s3a_url(args.silver, "_bench_limit/"))
                seconds.append(time.perf_counter() - started)
    finally:
        spark.stop()
    print(json.dumps({"seconds": seconds, "same_counts": len(counts) <= 1}))


def _run_phase(phase: str, bronze: str, silver: str, runs: int) -> tuple[list[float], bool]:
    """`_phase` in a fresh process and JVM, without SPARK_REMOTE (a process is in Connect mode or classic, not both)."""
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED")}
    argv = [sys.executable, "-m", __spec__.name if __spec__ else "weather_platform_tests.benchmarks.bench_silver"]
    argv += ["--phase", phase, "--bronze", bronze, "--silver", silver, "--runs", str(runs)]
    done = subprocess.run(argv, env=env, check=True, stdout=subprocess.PIPE, text=True, timeout=3600)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["seconds"], result["same_counts"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="bronze records in the day")
    parser.add_argument("--runs", type=int, default=3, help="runs of each side (the first on a cold JVM)")
    parser.add_argument("--phase", choices=("silver", "limit"), help=argparse.SUPPRESS)
    parser.add_argument("--bronze", help=argparse.SUPPRESS)
    parser.add_argument("--silver", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        _phase(args)
        return

    settings: Settings = load_settings()
    s3 = s3_client(settings)
    suffix = uuid.uuid4().hex[:10]
    bronze, silver = f"bench-bronze-{suffix}", f"bench-silver-{suffix}"
    started = time.perf_counter()
    objects = bronze_objects(args.rows)
    generated = time.perf_counter() - started
    for bucket in (bronze, silver):
        s3.create_bucket(Bucket=bucket)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda o: s3.put_object(Bucket=bronze, Key=o[0], Body=o[1]), objects))
        megabytes = sum(len(body) for _, body in objects) / 1e6
        print(f"bronze day {DAY}: {args.rows:,} records, {len(objects)} objects, {megabytes:.0f} MB")
        print(f"  generated in {generated:.1f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print("each side in a fresh process and JVM (local[2]), the first run cold, the others warm")
        limit, _ = _run_phase("limit", bronze, silver, args.runs)
        project, same_counts = _run_phase("silver", bronze, silver, args.runs)
    finally:
        for bucket in (bronze, silver):
            empty_bucket(s3, bucket)
    table = Table(title=f"silver, {args.rows:,} bronze rows (issue 16: >= 0.7 x plain Spark read + write)")
    for column in ("run", "silver s", "silver rows/s", "limit s", "limit rows/s", "ratio"):
        table.add_column(column, justify="right")
    for run, (ours, theirs) in enumerate(zip(project, limit, strict=True), start=1):
        kind = "1 (cold JVM)" if run == 1 else f"{run} (warm)"
        table.add_row(kind, f"{ours:.1f}", f"{args.rows / ours:,.0f}", f"{theirs:.1f}", f"{args.rows / theirs:,.0f}",
                      f"{theirs / ours:.2f}")  # fmt: skip
    Console(width=140).print(table)
    print(f"every silver run gave the same counts: {same_counts}")
    record(Row("silver, fresh JVM", f"process_day, {args.rows:,} rows: {args.rows / project[0]:,.0f} rows/s",
               f"plain Spark read + Parquet write: {args.rows / limit[0]:,.0f} rows/s", limit[0] / project[0], 0.7,
               higher_is_better=True))  # fmt: skip


if __name__ == "__main__":
    main()
