"""The local stack's memory while a benchmark runs (issue 16: peak RSS < 3 GiB with `dagster dev` during a run):
a sampler of the services, `dagster dev` and the run's process, and `dagster dev` started beside the stack as
`make demo` runs it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
from psycopg import sql

from weather_platform.settings import load_settings
from weather_platform.stack import manager
from weather_platform.stack.services import Postgres, default_stop_signals
from weather_platform_tests.api_server import free_port

TARGET_PEAK_GIB = 3.0
GIB = 1024**3


class MemorySampler:
    """Memory sampled on a thread every 0.25 s: the groups of `roots` (the services, `dagster dev`, the run), each
    process with its descendants; RSS summed per group and in all, and PSS (shared pages counted once) in all. `peak`:
    the sample of the highest RSS in all."""

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


def service_roots() -> dict[str, list[int]]:
    """The running services of the local stack, by name: each one's process id."""
    return {service.name: [pid] for service in manager.services() if (pid := service.pid()) is not None}


def describe(figures: dict[str, float]) -> str:
    """`RSS 2.61 GiB (kafka 0.40, …), PSS 2.20 GiB` of a sample."""
    groups = ", ".join(f"{name} {value / GIB:.2f}" for name, value in figures.items() if name not in {"rss", "pss"})
    return f"RSS {figures['rss'] / GIB:.2f} GiB ({groups}), PSS {figures['pss'] / GIB:.2f} GiB"


def peak_line(idle: dict[str, float], peak: dict[str, float]) -> str:
    """What a run did to the stack's memory: the sample at its start, its peak, the peak's share of the target."""
    share = peak["rss"] / GIB / TARGET_PEAK_GIB
    target = f"{TARGET_PEAK_GIB:.0f} GiB target"
    return f"at its start {describe(idle)}; peak {describe(peak)}; peak RSS / {target} = {share:.2f}"


def _trees(pids: list[int]) -> Iterator[psutil.Process]:
    for pid in pids:
        try:
            root = psutil.Process(pid)
            yield root
            yield from root.children(recursive=True)
        except psutil.NoSuchProcess:
            continue


@contextmanager
def dagster_dev() -> Iterator[int]:
    """`dagster dev` on a free port with a throwaway DAGSTER_HOME (this project's instance) and a throwaway Dagster
    database, as `make demo` runs it; its pid once the UI answers, stopped at the end. The instance is its own: its
    daemon does not catch up the user's schedules on the real lane beside the measured run, and the benchmark
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


@contextmanager
def nothing() -> Iterator[None]:
    """In place of `dagster_dev` when it is not asked for."""
    yield None
