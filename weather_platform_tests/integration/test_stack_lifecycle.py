"""Start, re-start (idempotent) and stop a real stack service in a scratch directory: nothing is left running."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from weather_platform.settings import Settings
from weather_platform.stack.services import Postgres, port_free

CREDS = {
    "POSTGRES_PASSWORD": "writer-pw",
    "WEATHER_READER_PASSWORD": "reader-pw",
    "POSTGRES_ADMIN_PASSWORD": "admin",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _running(pids: set[int]) -> set[int]:
    """Those of `pids` still running (zombies count as gone)."""
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _children(pid: int) -> set[int]:
    children = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(") ", 1)[1].split()[1]) == pid:
                    children.add(int(entry.name))
            except (OSError, IndexError):
                continue
    return children


def test_up_twice_then_down_leaves_no_process(tmp_path: Path) -> None:
    port = _free_port()
    service = Postgres(Settings(postgres_port=port), tmp_path, CREDS)
    assert service.launch() is True
    service.wait_ready()
    pid = service.pid()
    assert pid is not None and service.status().healthy
    processes = {pid} | _children(pid)
    assert len(processes) > 1  # the postmaster and its background workers

    assert service.launch() is False  # already running: nothing new is started
    service.wait_ready()
    assert service.pid() == pid

    assert service.stop() is True
    assert _running(processes) == set()
    assert service.pid() is None and service.status().health == "down"
    assert port_free(port)
    assert not os.path.exists(service.pid_file)


def test_status_shows_the_running_simulator_even_with_an_api_key_set() -> None:
    """With OPENWEATHER_API_KEY set the simulator is no longer the source, but while it runs `status` lists it
    (and so `down` stops it): nothing of the stack goes unseen."""
    import subprocess
    import sys

    env = {**os.environ, "OPENWEATHER_API_KEY": "a-key-set-after-the-stack-started", "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-m", "weather_platform.cli", "stack", "status"],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.startswith("│")}
    assert {"postgres", "minio", "kafka", "simulator"} <= set(rows), result.stdout
    assert "healthy" in rows["simulator"]
