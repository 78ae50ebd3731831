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
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime

from weather_platform.settings import Settings, load_settings
from weather_platform_tests.benchmarks.stack_memory import (
    GIB,
    TARGET_PEAK_GIB,
    MemorySampler,
    dagster_dev,
    nothing,
    peak_line,
    service_roots,
)
from weather_platform_tests.benchmarks.summary import Row, record
from weather_platform_tests.lanes import Lane

TARGET_SECONDS = 20.0
TARGET_RATIO = 3.0

# One cycle, in a child process: import the definitions (timed), then execute the job in process on a throwaway
# instance, with the resources pointed at this benchmark's lane.
CYCLE = """
import json, sys, time
started = time.perf_counter()
import dagster as dg
from weather_platform.automation.jobs import pipeline_job
from weather_platform.definitions import defs
from weather_platform.settings import load_settings
imported = time.perf_counter() - started
from weather_platform_tests.lanes import Lane
lane = json.loads(sys.argv[1])
resources = Lane.named(load_settings(), lane["prefix"], lane["unique"]).resources()
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cycles", type=int, default=2)
    parser.add_argument("--dagster-dev", action="store_true", help="run dagster dev beside it and sample memory")
    args = parser.parse_args(argv)
    with dagster_dev() if args.dagster_dev else nothing() as dev_pid:
        _cycles(args.cycles, dev_pid)


def _cycles(cycles: int, dev_pid: int | None) -> None:

    base: Settings = load_settings()
    lane = {"prefix": "bench-hourly", "unique": uuid.uuid4().hex[:10], "day": datetime.now(UTC).date().isoformat()}
    named = Lane.named(base, lane["prefix"], lane["unique"])
    named.provision()
    spark = f"Spark Connect at {base.spark_remote}" if base.spark_remote else f"a JVM per run ({base.spark_master})"
    print(f"hourly cycle for {len(base.cities)} cities ({base.weather_cities}), {cycles} cycles, each a fresh "
          f"process (import + run); Spark: {spark}")  # fmt: skip
    walls: list[float] = []
    ratios: list[float] = []
    peaks: list[float] = []
    try:
        services = service_roots()
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
                peaks.append(sampler.peak["rss"] / GIB)
                print(f"cycle {cycle} memory: {peak_line(idle, sampler.peak)}")
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
