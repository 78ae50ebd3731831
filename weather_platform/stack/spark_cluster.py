"""A throw-away Spark standalone cluster (one master, one worker) from pyspark's own `bin/spark-class`.

It runs the distributed path for real — a driver talking to a master, tasks in an executor JVM that the worker
launches — with nothing installed beyond the pyspark wheel, so tests can show that `SPARK_MASTER=spark://…` gives
the same silver output as `local[*]`. Executors get the S3A and JDBC jars the way a real cluster would: the driver
serves `spark.jars` and each executor fetches them, so the worker needs no classpath of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.client import HTTPException
from pathlib import Path
from typing import Any

from weather_platform.stack.provision import spark_home
from weather_platform.stack.services import StackError, default_stop_signals

HOST = "127.0.0.1"
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


def master_state(webui_port: int) -> dict[str, Any]:
    """The master's own view of the cluster (`/json/`: status, workers, applications)."""
    with urllib.request.urlopen(f"http://{HOST}:{webui_port}/json/", timeout=5) as response:
        state: dict[str, Any] = json.load(response)
    return state


@contextlib.contextmanager
def standalone_cluster(
    workdir: Path,
    master_port: int,
    webui_port: int,
    worker_cores: int = 1,
    worker_memory: str = "1g",
    start_timeout: float = 90.0,
) -> Iterator[str]:
    """Start a master and one worker bound to 127.0.0.1, yield the master URL once the worker is ALIVE, then stop
    both with their process groups (the worker's executors included), so nothing outlives the block.

    Logs go to `workdir/master.log` and `workdir/worker.log`; executors work in `workdir/work/<app>/<id>/`.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    url = f"spark://{HOST}:{master_port}"
    env = {
        **os.environ,
        "SPARK_HOME": str(spark_home()),
        "SPARK_LOCAL_IP": HOST,
        "SPARK_DAEMON_MEMORY": "512m",  # master and worker only book-keep; executors get their own heap
        "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",  # else it also takes the fixed port 6066
    }
    spark_class = str(spark_home() / "bin" / "spark-class")
    master_args = ["--host", HOST, "--port", str(master_port), "--webui-port", str(webui_port)]
    master = _start([spark_class, MASTER_CLASS, *master_args], workdir / "master.log", workdir, env)
    try:
        _wait(lambda: master_state(webui_port).get("status") == "ALIVE", master, workdir / "master.log", start_timeout)
        worker_args = [url, "--host", HOST, "--port", "0", "--webui-port", "0"]
        worker_args += ["--cores", str(worker_cores), "--memory", worker_memory, "--work-dir", str(workdir / "work")]
        worker = _start([spark_class, WORKER_CLASS, *worker_args], workdir / "worker.log", workdir, env)
        try:
            _wait(lambda: _alive_workers(webui_port) == 1, worker, workdir / "worker.log", start_timeout)
            yield url
        finally:
            _stop(worker)
    finally:
        _stop(master)


def _alive_workers(webui_port: int) -> int:
    return sum(1 for worker in master_state(webui_port).get("workers", []) if worker.get("state") == "ALIVE")


def _start(argv: list[str], log: Path, cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A daemon in its own session: its process group is exactly it and whatever it forks (executors)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd, env=env,
            start_new_session=True, preexec_fn=default_stop_signals,
        )  # fmt: skip


def _wait(ready: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StackError(f"{log.stem} exited during start-up (code {proc.returncode}):\n{_tail(log)}")
        with contextlib.suppress(OSError, HTTPException, ValueError):  # not listening yet, or a half-written answer
            if ready():
                return
        time.sleep(0.5)
    raise StackError(f"{log.stem} not ready after {timeout:.0f} s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _stop(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """SIGTERM to the daemon (its shutdown hooks stop the executors it launched), then SIGKILL to its whole group.

    Only the daemon gets the SIGTERM: sent to the group it would also hit the helpers the daemon forks while
    shutting down. The final SIGKILL reaches anything of the group still there (start_new_session: group = pid).
    """
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
