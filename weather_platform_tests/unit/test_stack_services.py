"""Pure behaviour of the local-stack code: settings, credentials, port conflicts, env lines."""

from __future__ import annotations

import shlex
import signal
import socket
from pathlib import Path

import pytest

from weather_platform.settings import Settings
from weather_platform.stack import manager
from weather_platform.stack.services import Kafka, MinIO, Postgres, Simulator, StackError, port_free, uuid_for_kafka
from weather_platform_tests.api_server import free_port

CREDS = {"S3_ACCESS_KEY_ID": "k", "S3_SECRET_ACCESS_KEY": "s", "POSTGRES_PASSWORD": "p",
         "WEATHER_READER_PASSWORD": "r", "POSTGRES_ADMIN_PASSWORD": "a"}  # fmt: skip


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WEATHER_PLATFORM_STATE", str(tmp_path / "state"))
    for name in (
        "S3_ACCESS_KEY_ID",
        "S3_SECRET_ACCESS_KEY",
        "POSTGRES_PASSWORD",
        "KAFKA_BOOTSTRAP_SERVERS",
        "WEATHER_API_BASE_URL",
        "WEATHER_CITIES",
        "SIMULATOR_PORT",
    ):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "state"


def test_taken_port_is_reported_with_service_port_and_the_setting_that_moves_it(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        settings = Settings(postgres_port=port)
        expected = rf"port {port} needed by postgres is already in use.*POSTGRES_PORT=<port>"
        with pytest.raises(StackError, match=expected):
            Postgres(settings, tmp_path, CREDS).launch()
    assert port_free(port)


def test_a_taken_port_starts_nothing(isolated_state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`stack up` checks every port first: with MinIO's port taken, PostgreSQL is not started and stopped again."""
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        monkeypatch.setenv("S3_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("POSTGRES_PORT", str(port_of_a_free_socket()))
        with pytest.raises(StackError, match=r"minio.*S3_ENDPOINT_URL=http://127.0.0.1:<port>"):
            manager.up()
    assert not (isolated_state / "postgres" / "pid").exists()


def port_of_a_free_socket() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_only_loopback_services_are_run_locally(tmp_path: Path) -> None:
    external = Settings(kafka_bootstrap_servers="kafka-1.internal:9092", s3_endpoint_url="https://s3.example.com")
    assert not Kafka(external, tmp_path, CREDS).is_local()
    assert not MinIO(external, tmp_path, CREDS).is_local()
    assert Kafka(Settings(), tmp_path, CREDS).is_local()
    assert Kafka(Settings(kafka_bootstrap_servers="127.0.0.1:19092"), tmp_path, CREDS).extra_ports == (19093,)


def test_credentials_are_generated_once_and_private(isolated_state: Path) -> None:
    first = manager.credentials()
    assert set(manager.GENERATED) <= set(first)
    assert manager.credentials() == first
    assert (isolated_state / "stack.env").stat().st_mode & 0o777 == 0o600


def test_env_lines_are_shell_safe_exports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEATHER_CITIES", "New York,US;São Paulo,BR")
    lines = manager.env_lines()
    parsed = dict(shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in lines)
    assert parsed["WEATHER_CITIES"] == "New York,US;São Paulo,BR"
    assert parsed["PGPASSWORD"] == parsed["POSTGRES_PASSWORD"] == manager.credentials()["POSTGRES_PASSWORD"]
    assert parsed["AWS_ENDPOINT_URL"] == parsed["S3_ENDPOINT_URL"]


def test_settings_defaults_follow_the_contract() -> None:
    settings = Settings()
    assert (settings.kafka_topic, settings.kafka_dlq_topic) == ("weather-data", "weather-data-dlq")
    assert (settings.bronze_bucket, settings.silver_bucket, settings.postgres_db) == (
        "bronze-layer", "silver-layer", "weather_dw")  # fmt: skip
    assert len(settings.cities) == 5
    assert settings.api_base_url == "http://127.0.0.1:8089/data/2.5"
    keyed = Settings(openweather_api_key="abc")  # type: ignore[arg-type]
    assert keyed.api_base_url.startswith("https://") and "abc" not in repr(keyed)


def test_a_service_started_by_a_process_that_ignores_stop_signals_still_stops_cleanly(isolated_state: Path) -> None:
    # A shell's background job ignores SIGINT, and Dagster run in-process then ignores SIGTERM as well; a server
    # started from there inherited both, so `stop` waited out its timeout and killed it (a JVM never shut down).
    port = free_port()
    server = Simulator(Settings(simulator_port=port, api_base_url=f"http://127.0.0.1:{port}/data/2.5"),
                       isolated_state, {"SIMULATOR_FAULT_TOKEN": "t"})  # fmt: skip
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.launch()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    try:
        server.wait_ready()
        pid = server.pid()
        assert pid is not None
        status = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        ignored = int(status["SigIgn"], 16)
        assert not ignored & (1 << (signal.SIGTERM - 1) | 1 << (signal.SIGINT - 1))
    finally:
        assert server.stop(timeout=20)
    assert server._proc is not None and server._proc.wait(timeout=5) != -signal.SIGKILL  # it stopped on SIGTERM


def test_a_kafka_cluster_id_is_never_read_as_an_option() -> None:
    """A fresh stack formats Kafka's storage with `-t <id>`: an id starting with "-" (one in 64 of random ones)
    failed the start. Ten thousand ids: none starts with "-", each is 16 bytes of URL-safe base64."""
    import base64

    ids = [uuid_for_kafka() for _ in range(10_000)]
    assert not [text for text in ids if text.startswith("-")]
    assert all(len(base64.urlsafe_b64decode(text + "==")) == 16 for text in ids)
    assert len(set(ids)) == len(ids)


def test_a_kafka_storage_that_cannot_be_formatted_says_what_kafka_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kafka's own StorageTool (the stack's Kafka jars) refusing the format: the stack's error carries its reason,
    not a bare exit status."""
    from weather_platform.stack import services

    monkeypatch.setattr(services, "uuid_for_kafka", lambda: "-PE4kolCTLeKaPmkWCrsBw")  # the id that failed a CI run
    kafka = Kafka(Settings(), tmp_path, CREDS)
    kafka.dir.mkdir(parents=True)  # as `launch` makes it
    with pytest.raises(StackError, match=r"(?s)formatting Kafka's storage in .* failed: .*expected one argument"):
        kafka.prepare()
