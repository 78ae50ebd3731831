"""`weather-platform doctor` on this machine: all green with the stack up, and each simulated problem with its fix."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "weather_platform.cli", "doctor"],
        capture_output=True, text=True, timeout=180, env={**env, "COLUMNS": "220"}, check=False,
    )  # fmt: skip


def _row(output: str, check: str) -> str:
    rows = [line for line in output.splitlines() if line.startswith(f"│ {check}")]
    assert rows, output
    return rows[0]


def test_all_green_on_this_machine_with_the_stack_up() -> None:
    result = _doctor(dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert " fail " not in result.stderr
    for check in ("Python", "Java", "disk", "memory", "postgres", "kafka", "minio"):
        assert " ok " in _row(result.stderr, check), check


def test_a_port_held_by_another_process_is_a_failure_naming_the_setting(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        env = {**os.environ, "WEATHER_PLATFORM_STATE": str(tmp_path / "state"), "POSTGRES_PORT": str(port)}
        result = _doctor(env)
    assert result.returncode == 1
    row = _row(result.stderr, f"postgres :{port}")
    assert " fail " in row and "port in use by another process" in row
    assert "POSTGRES_PORT=<port>" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: not ready: postgres")


def test_a_missing_java_is_a_failure_with_its_fix(tmp_path: Path) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("mvn", "go", "unshare"):  # everything the doctor looks for but Java
        found = shutil.which(tool)
        if found:
            (tools / tool).symlink_to(found)
    result = _doctor({**os.environ, "PATH": str(tools)})
    assert result.returncode == 1
    row = _row(result.stderr, "Java")
    assert " fail " in row and "no `java` on PATH" in row and "openjdk-17-jre-headless" in row


def test_too_little_free_disk_is_a_failure_with_its_fix() -> None:
    result = _doctor({**os.environ, "DOCTOR_MIN_FREE_GB": "1000000"})
    assert result.returncode == 1
    row = _row(result.stderr, "disk")
    assert " fail " in row and "needs 1e+06 GB" in row
    assert "WEATHER_PLATFORM_CACHE" in result.stderr
