"""The hourly cycle as users wait for it: one `weather_pipeline` run for today, simulator to gold, through Dagster.

    python -m weather_platform_tests.benchmarks.bench_hourly [--cycles 2]

Each cycle runs in a fresh Python process, as the daemon launches a run: the definitions are imported, one polling
round of WEATHER_CITIES is published and drained, and silver and gold of today are written and checked; the Spark
work goes to the stack's Spark Connect server (SPARK_REMOTE), or, without it, to a JVM the run starts. Runs on the
local stack (`eval "$(weather-platform stack env)"`) in a topic, consumer group, buckets and warehouse schema of its
own. Reports wall time per cycle, the import of the definitions, and the work: Spark's (the whole silver step,
whose outputs the lake IO manager writes) plus what the poll, the drain and the gold loads reported, with the ratio
of the wall time to that work (issue 16: < 20 s wall and <= 3x the work).
With `--dagster-dev`, `dagster dev` (webserver, daemon, code server) runs beside the stack, as in `make demo` (on an
instance database of its own), and the memory of the whole local stack is sampled every 0.25 s: the summed RSS of
the stack's services, the `dagster dev` tree and the cycle's process (issue 16: peak < 3 GiB during a run), and the
same sum in PSS (shared pages counted once), idle before the first cycle and at its peak.
Figures are reported, never asserted (docs/DESIGN.md §7).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psutil
from psycopg import sql

from weather_platform.settings import Settings, load_settings
from weather_platform.stack import manager
from weather_platform.stack.services import Postgres, default_stop_signals
from weather_platform_tests.api_server import free_port
from weather_platform_tests.benchmarks.summary import Row, record
from weather_platform_tests.lanes import Lane

TARGET_SECONDS = 20.0
LANE_SETTINGS = ("kafka_topic", "kafka_dlq_topic", "bronze_bucket", "silver_bucket")  # what a cycle is given
TARGET_RATIO = 3.0
TARGET_PEAK_GIB = 3.0
GIB = 1024**3

# One cycle, in a child process: import the definitions (timed), then execute the job in process on a throwaway
# instance, with the resources pointed at this benchmark's lane.
CYCLE = """
import json, sys, time
started = time.perf_counter()
import dagster as dg
from weather_platform.automation.jobs import pipeline_job
from weather_platform.definitions import defs
from weather_platform.resources import KafkaResource, PostgresResource, build_resources
from weather_platform.settings import load_settings
imported = time.perf_counter() - started
lane = json.loads(sys.argv[1])
settings = load_settings().model_copy(update=lane["settings"])
resources = build_resources(settings)
resources["kafka"] = KafkaResource(bootstrap_servers=settings.kafka_bootstrap_servers, topic=settings.kafka_topic,
                                   dlq_topic=settings.kafka_dlq_topic, bronze_group=lane["group"])
resources["postgres"] = PostgresResource(host=settings.postgres_host, port=settings.postgres_port,
                                         user=settings.postgres_user, password=settings.secret("postgres_password"),
                                         dbname=settings.postgres_db, search_path=lane["schema"])
# The unresolved job: a job resolved by `defs` is bound to defs' resources (the real topic, buckets and schema),
# and would run there whatever is given here.
job = dg.Definitions(jobs=[pipeline_job], assets=defs.assets, resources=resources).resolve_job_def(pipeline_job.name)
with dg.instance_for_test() as instance:
    ran = time.perf_counter()
    result = job.execute_in_process(partition_key=lane["day"], instance=instance, raise_on_error=False)
    run_seconds = time.perf_counter() - ran
    # Spark's work: the whole silver step (bronze read, cleaning, the three datasets written by the lake IO manager,
    # aggregates, the day's measures); the others report theirs.
    marks = {(e.step_key, e.dagster_event.event_type_value): e.timestamp for e in instance.all_logs(result.run_id)
             if e.dagster_event is not None and e.step_key == "silver"}
    spark = marks[("silver", "STEP_SUCCESS")] - marks[("silver", "STEP_START")] if result.success else 0.0
    # A failed step's error, so that a failed cycle says why.
    errors = [f"{e.step_key}: {str(e.dagster_event.event_specific_data.error)[-1500:]}"
              for e in instance.all_logs(result.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)]
other = 0.0
for event in result.get_asset_materialization_events():
    meta = event.step_materialization_data.materialization.metadata
    for name in ("load_seconds", "drain_seconds", "seconds"):
        if name in meta:
            other += float(meta[name].value)
checks = result.get_asset_check_evaluations()
print(json.dumps({"import": imported, "run": run_seconds, "spark": spark, "work": spark + other,
                  "success": result.success, "checks": len(checks),
                  "failed": [c.check_name for c in checks if not c.passed], "errors": errors}))
"""


class MemorySampler:
    """The local stack's memory, sampled on a thread: the services (and their children), `dagster dev` and the
    cycle's process, each with its descendants; RSS summed per group, and PSS (shared pages counted once) in all."""

    def __init__(self, roots: dict[str, list[int]]) -> None:
        self.roots = roots
        self.peak: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> dict[str, float]:
        """RSS of each group and in all, and PSS in all, in bytes."""
        figures: dict[str, float] = {"rss": 0.0, "pss": 0.0}
        for group, pids in self.roots.items():
            rss = 0.0
            for proc in _trees(pids):
                try:
                    info = proc.memory_full_info()
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                rss += info.rss
                figures["pss"] += info.pss
            figures[group] = rss
            figures["rss"] += rss
        return figures

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            figures = self.sample()
            if figures["rss"] > self.peak.get("rss", 0.0):
                self.peak = figures

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _trees(pids: list[int]) -> Iterator[psutil.Process]:
    for pid in pids:
        try:
            root = psutil.Process(pid)
            yield root
            yield from root.children(recursive=True)
        except psutil.NoSuchProcess:
            continue


def _gib(figures: dict[str, float]) -> str:
    groups = ", ".join(f"{name} {value / GIB:.2f}" for name, value in figures.items() if name not in {"rss", "pss"})
    return f"RSS {figures['rss'] / GIB:.2f} GiB ({groups}), PSS {figures['pss'] / GIB:.2f} GiB"


@contextmanager
def dagster_dev() -> Iterator[int]:
    """`dagster dev` on a free port with a throwaway DAGSTER_HOME (this project's instance) and a throwaway Dagster
    database, as `make demo` runs it; its pid once the UI answers, stopped at the end. The instance is its own: its
    daemon does not catch up the user's schedules on the real lane beside the measured cycle, and the benchmark
    leaves nothing in the user's run history."""
    home = Path(tempfile.mkdtemp(prefix="bench-dagster-home-"))
    root = Path(__file__).resolve().parents[2]
    shutil.copy(root / "dagster.instance.yaml", home / "dagster.yaml")
    port = free_port()
    database = f"bench_dagster_{uuid.uuid4().hex[:10]}"
    postgres = next(service for service in manager.services() if isinstance(service, Postgres))
    with postgres.admin() as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(database), sql.Identifier(load_settings().postgres_user)
            )
        )
    env = {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_POSTGRES_DB": database}
    argv = [str(Path(sys.executable).parent / "dagster"), "dev", "-h", "127.0.0.1", "-p", str(port),
            "-w", str(root / "workspace.yaml")]  # fmt: skip
    proc = subprocess.Popen(argv, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, preexec_fn=default_stop_signals)  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("dagster dev did not start") from None
                time.sleep(1)
        time.sleep(10)  # the daemon and the code server settle
        yield proc.pid
    finally:
        proc.send_signal(signal.SIGINT)  # dagster dev stops its children
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(home, ignore_errors=True)
        with postgres.admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cycles", type=int, default=2)
    parser.add_argument("--dagster-dev", action="store_true", help="run dagster dev beside it and sample memory")
    args = parser.parse_args(argv)
    with dagster_dev() if args.dagster_dev else _nothing() as dev_pid:
        _cycles(args.cycles, dev_pid)


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def _cycles(cycles: int, dev_pid: int | None) -> None:

    base: Settings = load_settings()
    named = Lane.named(base, "bench-hourly", uuid.uuid4().hex[:10])
    lane = {
        "settings": {key: getattr(named.settings, key) for key in LANE_SETTINGS},
        "group": named.group,
        "schema": named.schema,
        "day": datetime.now(UTC).date().isoformat(),
    }
    named.provision()
    spark = f"Spark Connect at {base.spark_remote}" if base.spark_remote else f"a JVM per run ({base.spark_master})"
    print(f"hourly cycle for {len(base.cities)} cities ({base.weather_cities}), {cycles} cycles, each a fresh "
          f"process (import + run); Spark: {spark}")  # fmt: skip
    walls: list[float] = []
    ratios: list[float] = []
    peaks: list[float] = []
    try:
        services = {service.name: [pid] for service in manager.services() if (pid := service.pid()) is not None}
        for cycle in range(1, cycles + 1):
            started = time.perf_counter()
            child = subprocess.Popen(
                [sys.executable, "-c", CYCLE, json.dumps(lane)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            roots = {**services, "dagster dev": [dev_pid] if dev_pid else [], "run": [child.pid]}
            sampler = MemorySampler(roots)
            idle = sampler.sample()
            with sampler:
                stdout, stderr = child.communicate()
            wall = time.perf_counter() - started
            if dev_pid:
                share = sampler.peak["rss"] / GIB / TARGET_PEAK_GIB
                peaks.append(sampler.peak["rss"] / GIB)
                print(f"cycle {cycle} memory: at its start {_gib(idle)}; peak {_gib(sampler.peak)}; peak RSS / "
                      f"{TARGET_PEAK_GIB:.0f} GiB target = {share:.2f}")  # fmt: skip
            lines = [line for line in stdout.splitlines() if line.startswith("{")]
            if child.returncode != 0 or not lines:
                print(f"cycle {cycle} failed: {stderr[-2000:]}")
                continue
            figures = json.loads(lines[-1])
            ratio = wall / figures["work"] if figures["work"] else float("inf")
            walls.append(wall)
            ratios.append(ratio)
            print(
                f"cycle {cycle}: wall {wall:5.1f} s (import of the definitions {figures['import']:.1f} s, run "
                f"{figures['run']:.1f} s); Spark (the silver step) {figures['spark']:.1f} s + load + drain + poll "
                f"work {figures['work']:.1f} s -> ratio "
                f"{ratio:.2f} (target <= {TARGET_RATIO:.0f}); wall / {TARGET_SECONDS:.0f} s target = "
                f"{wall / TARGET_SECONDS:.2f}; success {figures['success']}, {figures['checks']} check results, "
                f"failed {figures['failed'] or 'none'}"
            )
            for error in figures["errors"]:
                print(f"cycle {cycle} step failed: {error}")
        _record(walls, ratios, peaks, len(base.cities))
    finally:
        named.remove()


def _record(walls: list[float], ratios: list[float], peaks: list[float], cities: int) -> None:
    """The summary rows: the median wall of the cycles after the first (the server warm, as every hour after the
    first), the worst ratio to the work, the highest peak RSS."""
    if not walls:
        return
    warm = walls[1:] or walls
    cycles = ", ".join(f"{w:.1f}" for w in walls)
    record(Row("hourly cycle through Dagster, wall", f"{cities} cities, cycles {cycles} s (median after the first)",
               "target 20 s", statistics.median(warm), TARGET_SECONDS, higher_is_better=False, unit="s"))  # fmt: skip
    record(Row("hourly cycle, wall / its work", f"worst of {len(ratios)} cycles", "its Spark, load, drain, poll work",
               max(ratios), TARGET_RATIO, higher_is_better=False, unit="x work"))  # fmt: skip
    if peaks:
        record(Row("peak RSS, stack + dagster dev", f"highest of {len(peaks)} cycles", "target 3 GiB", max(peaks),
                   TARGET_PEAK_GIB, higher_is_better=False, unit="GiB"))  # fmt: skip


if __name__ == "__main__":
    main()
