"""`make chaos`: hostile records, killed and frozen writers, and stopped services, then an exact account.

    python -m weather_platform_tests.chaos.campaign [--valid 20000] [--hostile 5000] [--seconds 150] [--seed N]

On the running local stack (loopback only), in a lane of its own (topics, buckets, a PostgreSQL schema):
1. two `weather-platform consume --mode follow` writers share one consumer group;
2. a producer sends `--valid` clean observations over three days mixed with `--hostile` hostile records (the
   named poison cases of `weather_platform_tests.hostile` and records drawn from its `hypothesis` strategy);
3. meanwhile, for `--seconds`, a fault every few seconds: SIGKILL or SIGSTOP (past the session timeout) of a
   writer, Kafka or MinIO stopped and restarted;
4. once the writers have caught up, silver and gold of every affected day run through Dagster, with PostgreSQL
   stopped and restarted while they run (retries and re-runs must bring every day in).
It prints one table and exits non-zero unless nothing was lost, duplicated or stuck, and every rejected record
is in the dead-letter topic with its reason. Bounded: every wait has a deadline, and it stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

os.environ.setdefault("WEATHER_RETRY_DELAY_SECONDS", "3")  # before the assets are imported

import dagster as dg
import psycopg
from hypothesis import HealthCheck, given, settings
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from psycopg import sql
from rich.console import Console
from rich.table import Table

from weather_platform.assets.bronze import kafka_drain, weather_raw
from weather_platform.assets.gold import GOLD_ASSETS
from weather_platform.assets.silver import silver
from weather_platform.connections import s3_client
from weather_platform.lake import bronze_store
from weather_platform.lake.silver_reader import arrow_s3, read_silver_day
from weather_platform.settings import Settings, load_settings, stack_dir
from weather_platform.stack import manager
from weather_platform.stack.services import Service
from weather_platform.streaming.bronze_writer import _parse
from weather_platform.streaming.dead_letter import DeadLetter
from weather_platform_tests.hostile import hostile_records, poison_cases
from weather_platform_tests.lanes import Lane

console = Console()
DAYS = (date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30))


@dataclass
class Faults:
    counts: Counter[str] = field(default_factory=Counter)
    crashes: int = 0


@dataclass
class Coordinates:
    partition: int
    offset: int


def _valid_records(n: int) -> list[tuple[bytes, bytes]]:
    """n clean observations: 40 cities, distinct times over DAYS, so every one must reach gold."""
    per_city = -(-n // 40)
    step = timedelta(seconds=(len(DAYS) * 86_400) // per_city)
    start = datetime.combine(DAYS[0], datetime.min.time(), UTC)
    out = []
    for i in range(n):
        city, slot = f"Chaos City {i % 40}", i // 40
        stamp = (start + step * slot).strftime("%Y-%m-%dT%H:%M:%SZ")
        value = {
            "source": "chaos",
            "city": city,
            "country": "CH",
            "timestamp": stamp,
            "ingested_at": stamp,
            "temperature": round(-5 + (i % 300) / 10, 1),
            "humidity": 30 + i % 60,
            "pressure": 1000 + i % 30,
            "wind_speed": 2.5,
            "weather_main": "Clouds",
        }
        out.append((f"{city},CH".encode(), json.dumps(value).encode()))
    return out


def _hostile_records(n: int, seed: int) -> list[tuple[bytes | None, bytes | None]]:
    out: list[tuple[bytes | None, bytes | None]] = []
    rng = random.Random(seed)
    while len(out) < n // 2:  # half: the named cases, at random moments of the days
        moment = datetime.combine(rng.choice(DAYS), datetime.min.time(), UTC) + timedelta(seconds=rng.randrange(86_400))
        out.extend((c.key, c.value) for c in poison_cases(moment))
    drawn: list[tuple[bytes | None, bytes | None]] = []

    @settings(
        max_examples=n - len(out),
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(hostile_records(datetime.combine(DAYS[1], datetime.min.time(), UTC)))
    def draw(record: tuple[bytes | None, bytes | None]) -> None:
        drawn.append(record)

    draw()
    # Kafka takes no record without both key and value: a tombstone needs a key
    return [(k if k is not None or v is not None else b"", v) for k, v in out + drawn]


class Writers:
    """The two follow-mode writer processes of the campaign, restarted when killed."""

    def __init__(self, env: dict[str, str], group: str) -> None:
        self.env, self.group = env, group
        self.procs: list[subprocess.Popen[bytes] | None] = [None, None]
        self.killed: set[int] = set()
        self.faults = Faults()
        logs = stack_dir() / "logs"
        # Like every log of the stack, the owner's alone (the writers may log record contents).
        self.logs = [
            os.fdopen(os.open(logs / f"chaos-writer-{i}.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab")
            for i in range(2)
        ]

    def start(self, i: int) -> None:
        argv = [
            sys.executable,
            "-m",
            "weather_platform.cli",
            "consume",
            "--mode",
            "follow",
            "--group",
            self.group,
            "--flush-seconds",
            "1",
        ]
        self.procs[i] = subprocess.Popen(argv, env=self.env, stdout=self.logs[i], stderr=subprocess.STDOUT)

    def check(self) -> None:
        """Restart writers that ended; count those that ended on their own as crashes."""
        for i, proc in enumerate(self.procs):
            if proc is not None and proc.poll() is not None:
                if proc.pid not in self.killed:
                    self.faults.crashes += 1
                    console.print(f"[red]writer {i} exited on its own with {proc.returncode}[/red]")
                self.start(i)

    def kill(self, rng: random.Random) -> None:
        proc = self.procs[rng.randrange(2)]
        if proc is not None and proc.poll() is None:
            self.killed.add(proc.pid)
            proc.kill()
            self.faults.counts["writer SIGKILL"] += 1

    def freeze(self, rng: random.Random, seconds: float) -> None:
        proc = self.procs[rng.randrange(2)]
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGSTOP)
            time.sleep(seconds)
            proc.send_signal(signal.SIGCONT)
            self.faults.counts["writer SIGSTOP 15 s"] += 1

    def stop(self) -> None:
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                self.killed.add(proc.pid)
                proc.send_signal(signal.SIGINT)  # the CLI finishes its batch on Ctrl-C
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _restart(service: Service, down_seconds: float) -> None:
    service.stop()
    time.sleep(down_seconds)
    service.launch()
    service.wait_ready()


def _produce(bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes | None]], seconds: float) -> int:
    """Send every record (spread over `seconds`), re-sending any the broker did not acknowledge."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=20,
        max_request_size=4 * 1024 * 1024,
        request_timeout_ms=20_000,
        delivery_timeout_ms=60_000,
    )
    pending = list(records)
    chunk = max(1, len(pending) // max(1, int(seconds)))
    resent = 0
    while pending:
        batch, pending = pending[:chunk], pending[chunk:]
        futures = [(r, producer.send(topic, key=r[0], value=r[1])) for r in batch]
        for record, future in futures:
            try:
                future.get(timeout=60)
            except Exception:
                pending.append(record)
                resent += 1
        time.sleep(1.0)
    producer.close()
    return resent


def _read_topic(bootstrap: str, topic: str) -> list[Any]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=10_000)
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    ends = consumer.end_offsets(partitions)
    records = []
    while any(consumer.position(tp) < ends[tp] for tp in partitions):
        for batch in consumer.poll(timeout_ms=2000).values():
            records.extend(batch)
    consumer.close()
    return records


def _lag(bootstrap: str, topic: str, group: str) -> dict[int, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        ends = consumer.end_offsets(partitions)
        return {tp.partition: ends[tp] - (consumer.committed(tp) or 0) for tp in partitions}
    finally:
        consumer.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--valid", type=int, default=20_000)
    parser.add_argument("--hostile", type=int, default=5_000)
    parser.add_argument("--seconds", type=float, default=150.0, help="how long faults are injected")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    base = load_settings()
    unique = uuid.uuid4().hex[:8]
    named = Lane.named(base, "chaos", unique)
    lane, group, schema = named.settings, named.group, named.schema
    named.provision()
    s3 = s3_client(base)
    console.print(f"chaos lane {unique}, seed {args.seed}: topic {lane.kafka_topic}, schema {schema}")

    valid = _valid_records(args.valid)
    hostile = _hostile_records(args.hostile, args.seed)
    records = valid + hostile
    rng.shuffle(records)
    kinds = len({c.kind for c in poison_cases(datetime.now(UTC))})

    stack = {s.name: s for s in manager.services()}
    env = {
        **os.environ,
        "KAFKA_TOPIC": lane.kafka_topic,
        "KAFKA_DLQ_TOPIC": lane.kafka_dlq_topic,
        "BRONZE_BUCKET": lane.bronze_bucket,
    }
    writers = Writers(env, group)
    writers.start(0)
    writers.start(1)
    produced: dict[str, int] = {}
    producer = threading.Thread(
        target=lambda: produced.update(
            resent=_produce(base.kafka_bootstrap_servers, lane.kafka_topic, records, args.seconds * 0.8)
        ),
        daemon=True,
    )
    producer.start()
    deadline = time.monotonic() + args.seconds
    faults = ["kill", "kill", "freeze", "kafka", "minio"]
    while time.monotonic() < deadline:
        time.sleep(rng.uniform(4, 10))
        writers.check()
        fault = rng.choice(faults)
        console.print(f"{time.strftime('%H:%M:%S')} fault: {fault}")
        if fault == "kill":
            writers.kill(rng)
        elif fault == "freeze":
            writers.freeze(rng, 15)
        elif fault == "kafka":
            _restart(stack["kafka"], rng.uniform(3, 12))
            writers.faults.counts["Kafka stopped and restarted"] += 1
        else:
            _restart(stack["minio"], rng.uniform(3, 12))
            writers.faults.counts["MinIO stopped and restarted"] += 1
    producer.join(timeout=600)
    catch_up = time.monotonic() + 300
    lag = _lag(base.kafka_bootstrap_servers, lane.kafka_topic, group)
    while sum(lag.values()) and time.monotonic() < catch_up:
        writers.check()
        time.sleep(3)
        lag = _lag(base.kafka_bootstrap_servers, lane.kafka_topic, group)
    writers.check()
    writers.stop()
    stuck = sum(1 for v in lag.values() if v)

    # -- silver and gold of every affected day, through Dagster, with PostgreSQL restarted meanwhile --------
    resources = named.resources()
    days = sorted({d for d in DAYS} | _bronze_days(s3, lane))
    restarter = threading.Thread(target=lambda: (time.sleep(20), _restart(stack["postgres"], 8)), daemon=True)
    reruns = 0
    with dg.instance_for_test() as instance:
        restarter.start()
        writers.faults.counts["PostgreSQL stopped and restarted"] += 1
        for day in days:
            for _attempt in range(4):
                result = dg.materialize(
                    [kafka_drain, weather_raw, silver, *GOLD_ASSETS],
                    partition_key=day.isoformat(),
                    resources=resources,
                    instance=instance,
                    raise_on_error=False,
                )
                if result.success:
                    break
                reruns += 1
                time.sleep(10)
        restarter.join(timeout=120)

    report = _account(base, lane, schema, records, valid, days, s3)
    table = Table(title=f"make chaos — lane {unique}, seed {args.seed}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("records produced (valid / hostile)", f"{len(valid)} / {len(hostile)}"),
        ("hostile kinds (named cases + hypothesis)", f"{kinds} + generated"),
        ("records in Kafka (re-sends included)", report["in_kafka"]),
        ("accepted by the contract / rejected", f"{report['accepted']} / {report['rejected']}"),
        ("dead-lettered (distinct source records)", report["dead_lettered"]),
        ("rejected without a dead letter", report["rejected_without_letter"]),
        ("rejected yet in bronze", report["rejected_in_bronze"]),
        ("in bronze (rows / distinct records)", f"{report['bronze_rows']} / {report['bronze_distinct']}"),
        ("in silver (rows)", report["silver_rows"]),
        ("in gold (detailed rows)", report["gold_rows"]),
        ("clean records missing from gold", report["clean_missing_in_gold"]),
        *[(f"fault: {name}", n) for name, n in sorted(writers.faults.counts.items())],
        ("Dagster re-runs needed", reruns),
        ("lost", report["lost"]),
        ("duplicated", report["duplicated"]),
        ("stuck partitions", stuck),
        ("crashes", writers.faults.crashes),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    console.print(table)
    bad = sum(report[k] for k in ("lost", "duplicated", "rejected_without_letter", "rejected_in_bronze"))
    bad += stuck + writers.faults.crashes
    if bad or report["clean_missing_in_gold"]:
        console.print(f"the lane is kept for inspection: {named.names()}")
        return 1
    named.remove()
    console.print(f"the lane is removed ({named.names()})")
    return 0


def _bronze_days(s3: Any, lane: Settings) -> set[date]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=lane.bronze_bucket, Prefix="weather/")
    days = set()
    for page in pages:
        for obj in page.get("Contents", []):
            parts = dict(p.split("=") for p in obj["Key"].split("/")[1:4])
            days.add(date(int(parts["year"]), int(parts["month"]), int(parts["day"])))
    return days


def _account(
    base: Settings, lane: Settings, schema: str, records: list[Any], valid: list[Any], days: list[date], s3: Any
) -> dict[str, int]:
    in_kafka = _read_topic(base.kafka_bootstrap_servers, lane.kafka_topic)
    accepted, rejected = set(), set()
    for record in in_kafka:
        tables, _ = _parse([record], base.weather_partitions_start)
        (accepted if tables else rejected).add((record.partition, record.offset))
    letters = [DeadLetter.from_json(r.value) for r in _read_topic(base.kafka_bootstrap_servers, lane.kafka_dlq_topic)]
    lettered = {(d.source_partition, d.source_offset) for d in letters if d.reason}
    bronze_rows, bronze_coords = 0, set()
    for day in _bronze_days(s3, lane):
        table = bronze_store.read_day(s3, lane.bronze_bucket, day, ["kafka_partition", "kafka_offset"])
        if table is not None:
            bronze_rows += table.num_rows
            bronze_coords |= set(
                zip(table["kafka_partition"].to_pylist(), table["kafka_offset"].to_pylist(), strict=True)
            )
    silver_rows = 0
    # The lane's silver, read as the gold assets read it (outside Dagster a resource's EnvVars are still unresolved).
    arrow_fs = arrow_s3(
        lane.s3_endpoint_url, lane.secret("s3_access_key_id"), lane.secret("s3_secret_access_key"), lane.s3_region
    )
    for day in days:
        table = read_silver_day(arrow_fs, lane.silver_bucket, "weather_cleaned", day)
        silver_rows += 0 if table is None else table.num_rows
    with psycopg.connect(**base.postgres_connect_kwargs(), autocommit=True) as conn:
        detailed = sql.Identifier(schema, "gold_weather_detailed")
        gold_rows = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(detailed)).fetchone()[0]  # type: ignore[index]
        query = sql.SQL(
            "SELECT city, to_char(timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM {}"
        ).format(detailed)
        keys = set(conn.execute(query).fetchall())
    clean_keys = {(json.loads(v)["city"], json.loads(v)["timestamp"]) for _, v in valid}
    return {
        "in_kafka": len(in_kafka),
        "accepted": len(accepted),
        "rejected": len(rejected),
        "dead_lettered": len(lettered),
        "rejected_without_letter": len(rejected - lettered),
        "bronze_rows": bronze_rows,
        "bronze_distinct": len(bronze_coords),
        "silver_rows": silver_rows,
        "gold_rows": int(gold_rows),
        "clean_missing_in_gold": len(clean_keys - keys),
        "lost": len(accepted - bronze_coords),
        "duplicated": bronze_rows - len(bronze_coords),
        "rejected_in_bronze": len(bronze_coords - accepted),
    }


if __name__ == "__main__":
    sys.exit(main())
