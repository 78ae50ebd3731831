"""Expected mistakes get one line that names the fix and a non-zero exit code, never a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from weather_platform_tests.api_server import free_port


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "weather_platform.cli", *args],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip


def _isolated(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment: a state directory of its own, nothing of the running stack's exported."""
    platform = ("POSTGRES_", "S3_", "KAFKA_", "PG", "AWS_", "WEATHER_", "SIMULATOR_", "OPENWEATHER_", "DAGSTER_")
    platform += ("SPARK_",)
    env = {k: v for k, v in os.environ.items() if not k.startswith(platform)}
    env.update({"WEATHER_PLATFORM_STATE": str(tmp_path / "state"), "COLUMNS": "200", **extra})
    return env


def test_stack_env_while_the_stack_is_down_says_to_start_it(tmp_path: Path) -> None:
    port = str(free_port())
    env = _isolated(tmp_path, POSTGRES_PORT=port, S3_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",
                    KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{free_port()}", SIMULATOR_PORT=str(free_port()))  # fmt: skip
    result = _run(["stack", "env"], env)
    assert result.returncode == 3
    assert result.stdout == ""  # no credentials printed for a stack that is not there
    assert "start it with `weather-platform stack up`" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_without_a_dagster_home_says_how_to_make_one(tmp_path: Path) -> None:
    env = _isolated(tmp_path, DAGSTER_HOME=str(tmp_path / "nowhere"))
    result = _run(["demo"], env)
    assert result.returncode == 2
    assert "DAGSTER_HOME must name a folder holding this project's dagster.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_with_postgresql_down_says_to_start_the_stack(tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((Path(__file__).resolve().parents[2] / "dagster.instance.yaml").read_text())
    env = _isolated(tmp_path, POSTGRES_PORT=str(free_port()), POSTGRES_PASSWORD="unused", DAGSTER_HOME=str(home))
    result = _run(["demo"], env)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "is the stack up? `weather-platform stack up`" in lines[0], result.stderr


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_cities_separated_by_commas_get_the_semicolon_hint(tmp_path: Path) -> None:
    line = _one_error_line(_run(["ingest"], _isolated(tmp_path, WEATHER_CITIES="London,GB,Paris,FR")))
    assert "'London,GB,Paris,FR' has 4 comma-separated parts: separate cities with ';'" in line


def test_empty_cities_are_refused(tmp_path: Path) -> None:
    line = _one_error_line(_run(["ingest"], _isolated(tmp_path, WEATHER_CITIES="  ")))
    assert "WEATHER_CITIES is empty" in line
    line = _one_error_line(_run(["ingest", "--cities", "London,;Paris,FR"], _isolated(tmp_path)))
    assert "'London,' has an empty part" in line


def test_a_city_the_simulator_does_not_know_lists_those_it_knows(tmp_path: Path) -> None:
    env = _isolated(tmp_path, WEATHER_CITIES="London,GB;Atlantis,XX")
    env.pop("OPENWEATHER_API_KEY", None)
    line = _one_error_line(_run(["ingest"], env))
    assert "the simulator knows no 'Atlantis,XX'" in line and "Reykjavik,IS" in line


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = _run(["--debug", "ingest"], _isolated(tmp_path, WEATHER_CITIES=";"))
    assert result.returncode != 0 and "Traceback" in result.stderr and "InvalidSetting" in result.stderr


def test_every_command_and_option_explains_itself() -> None:
    from weather_platform.cli import build_parser

    parser = build_parser()
    (commands,) = [a for a in parser._actions if a.dest == "command"]
    for name, sub in commands.choices.items():  # type: ignore[attr-defined]
        assert sub.description or name == "bi", f"{name} has no description"
        undocumented = [a.dest for a in sub._actions if a.dest != "help" and not a.help]
        assert undocumented == [], f"{name}: {undocumented}"


def test_stack_up_on_a_taken_port_names_the_setting_and_starts_nothing(tmp_path: Path) -> None:
    import socket

    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        others = {
            "S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
            "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
            "SIMULATOR_PORT": str(free_port()),
            "SPARK_REMOTE": f"sc://localhost:{free_port()}",
        }
        env = _isolated(tmp_path, POSTGRES_PORT=str(port), **others)
        result = _run(["stack", "up"], env)
    assert result.returncode == 2
    line = [line for line in result.stderr.splitlines() if line.strip()][-1]
    assert line == (
        f"error: port {port} needed by postgres is already in use by another process: stop that process, or move "
        "postgres to a free port with POSTGRES_PORT=<port>"
    )
    assert not (tmp_path / "state" / "postgres" / "pid").exists()


def test_migrate_with_postgresql_down_names_the_server(tmp_path: Path) -> None:
    port = str(free_port())
    env = _isolated(tmp_path, POSTGRES_PORT=port, POSTGRES_PASSWORD="unused")
    result = _run(["migrate"], env)
    assert result.returncode == 1
    assert f"PostgreSQL at 127.0.0.1:{port}/weather_dw is not answering" in result.stderr
    assert "Traceback" not in result.stderr and "unused" not in result.stderr


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stop_while_the_follow_service_waits_for_kafka_ends_it_at_once_without_a_traceback(
    tmp_path: Path, stop: signal.Signals
) -> None:
    # Kafka is a free port (nothing listening), so the service is in its start-up wait: bootstrap, then backoff.
    env = _isolated(tmp_path, KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{free_port()}", S3_ACCESS_KEY_ID="unused",
                    S3_SECRET_ACCESS_KEY="unused", S3_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")  # fmt: skip
    argv = [sys.executable, "-m", "weather_platform.cli", "consume", "--mode", "follow"]
    service = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal, whoever runs the tests
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(service.stderr or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while "retrying in 1 s" not in "".join(lines) and service.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "is unavailable" in "".join(lines), "".join(lines)
        time.sleep(0.5)  # into the wait (or the next attempt: either way it stops)
        service.send_signal(stop)
        rc = service.wait(timeout=30)
    finally:
        if service.poll() is None:
            service.kill()
    reader.join(timeout=10)
    assert rc == 128 + stop, "".join(lines)
    assert "Traceback" not in "".join(lines)
