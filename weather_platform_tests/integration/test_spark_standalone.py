"""The distributed path: `process_day` on a real Spark standalone cluster (master + worker from pyspark's own
`spark-class`) writes exactly the silver rows that `local[*]` writes for the same bronze day.

The cluster run happens in a separate Python process (this module run as a script) without SPARK_REMOTE: its
driver is a classic session in that process, while the test run's own session works on the stack's Spark Connect
server (a process is in one mode or the other), so the comparison is also classic against Connect.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from pyspark.sql import SparkSession

from weather_platform.connections import s3_client
from weather_platform.lake.layout import SILVER_DATASETS
from weather_platform.lake.silver_writer import process_day
from weather_platform.lake.spark_config import build_spark_session
from weather_platform.settings import Settings, load_settings
from weather_platform.stack.spark_cluster import standalone_cluster
from weather_platform_tests.integration.test_silver_writer import (
    DAY,
    EXPECTED_DROPPED,
    OBJECTS,
    Lake,
    delete_bucket,
    rows_of,
)

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
# What makes PySpark open Spark Connect sessions: the stack's URL, and the flag PySpark sets once this process made one.
CONNECT_MODE = ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def run_on_cluster(workdir: Path, bronze: str, silver: str, day: date) -> dict[str, Any]:
    """Start the cluster, run the day on it, stop everything; what the driver saw, as JSON-able values."""
    with standalone_cluster(workdir, free_port(), free_port(), worker_cores=2) as url:
        # The driver's UI (off by default) serves the executor metrics this test reads.
        update = {"spark_master": url, "spark_ui_port": free_port(), "spark_remote": None}
        settings = load_settings().model_copy(update=update)
        spark = build_spark_session(settings, "it-standalone")
        spark.conf.set("spark.sql.shuffle.partitions", "4")  # as the test run's own session: a small day
        try:
            result = process_day(spark, settings, day, bronze_bucket=bronze, silver_bucket=silver)
            context = spark.sparkContext
            assert context.uiWebUrl is not None, "the driver UI serves the executor metrics"
            api = f"http://{urlparse(context.uiWebUrl).netloc}/api/v1/applications/{context.applicationId}/executors"
            with urllib.request.urlopen(api, timeout=10) as response:
                tasks = {e["id"]: e["totalTasks"] for e in json.load(response)}
            master = context.master
        finally:
            spark.stop()
    return {
        "master": master,
        "executor_tasks": tasks,
        "rows_in": result.rows_in,
        "rows_out": result.rows_out,
        "dropped": result.dropped,
        "daily_rows": result.daily_rows,
        "hourly_rows": result.hourly_rows,
        "avg_quality_score": result.avg_quality_score,
    }


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if proc.name.isdigit() and text in cmdline:
            found.append(f"{proc.name}: {cmdline[:200]}")
    return found


def test_standalone_cluster_writes_the_same_silver_as_local(
    spark: SparkSession, settings: Settings, unique: str, tmp_path: Path
) -> None:
    s3 = s3_client(settings)
    bronze = f"it-standalone-src-{unique}"
    cluster = Lake(settings, bronze, f"it-standalone-cluster-{unique}", s3)
    local = Lake(settings, bronze, f"it-standalone-local-{unique}", s3)
    buckets = (bronze, cluster.silver_bucket, local.silver_bucket)
    for bucket in buckets:
        s3.create_bucket(Bucket=bucket)
    workdir = tmp_path / "cluster"
    try:
        for day, partition, first, records in OBJECTS:
            if day == DAY:
                cluster.put_bronze(day, partition, first, records)
        proc = subprocess.run(
            [sys.executable, "-m", __name__, str(workdir), bronze, cluster.silver_bucket, DAY.isoformat()],
            cwd=REPO,
            env={key: value for key, value in os.environ.items() if key not in CONNECT_MODE},
            capture_output=True,
            text=True,
            timeout=240,
        )
        logs = "".join(f"\n--- {log.name}\n{log.read_text()[-3000:]}" for log in sorted(workdir.glob("*.log")))
        assert proc.returncode == 0, f"{proc.stderr[-3000:]}{logs}"
        on_cluster = json.loads(proc.stdout.strip().splitlines()[-1])

        on_local = local.run(spark, DAY)

        # The cluster really ran the tasks, in the worker's executor, which fetched the S3A jars from the driver;
        # and once the block was left, nothing of the cluster was still running.
        assert on_cluster["master"].startswith("spark://127.0.0.1:")
        assert on_cluster["executor_tasks"]["driver"] == 0
        assert sum(n for executor, n in on_cluster["executor_tasks"].items() if executor != "driver") > 0
        assert list(workdir.glob("work/app-*/*/hadoop-aws-*.jar"))
        assert _processes_mentioning(str(workdir)) == []

        assert on_cluster["dropped"] == on_local.dropped == EXPECTED_DROPPED
        assert (on_cluster["rows_in"], on_cluster["rows_out"]) == (on_local.rows_in, on_local.rows_out) == (36, 22)
        assert (on_cluster["daily_rows"], on_cluster["hourly_rows"]) == (on_local.daily_rows, on_local.hourly_rows)
        assert on_cluster["avg_quality_score"] == on_local.avg_quality_score
        for dataset in SILVER_DATASETS:
            assert rows_of(cluster.read(spark, dataset, DAY)) == rows_of(local.read(spark, dataset, DAY)), dataset
    finally:
        shutil.rmtree(workdir / "work", ignore_errors=True)  # each executor's copy of the jars: ~700 MB
        for bucket in buckets:
            delete_bucket(s3, bucket)


if __name__ == "__main__":
    workdir, bronze, silver, day = sys.argv[1:5]
    print(json.dumps(run_on_cluster(Path(workdir), bronze, silver, date.fromisoformat(day))))
