"""The code location loads: what `dagster definitions validate` checks, as a test, with placeholder settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LOAD = "import dagster as dg; from weather_platform.definitions import defs; dg.Definitions.validate_loadable(defs)"
SECRETS = ("S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "POSTGRES_PASSWORD", "OPENWEATHER_API_KEY", "ALERT_WEBHOOK_URL")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No stack, no .env: only what the test gives (the definitions must not need a running service to load)."""
    platform = ("POSTGRES_", "S3_", "KAFKA_", "AWS_", "WEATHER_", "SIMULATOR_", "OPENWEATHER_", "ALERT_", "DAGSTER_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(platform)}
    return {**env, "WEATHER_PLATFORM_STATE": str(tmp_path / "state"), **extra}


def _load(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", LOAD], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_definitions_load_with_placeholder_settings(tmp_path: Path) -> None:
    result = _load(tmp_path, _env(tmp_path, **{name: "placeholder" for name in SECRETS}))
    assert result.returncode == 0, result.stderr[-3000:]


def test_a_secret_only_in_a_file_is_a_clear_error_not_written_to_the_environment(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("S3_ACCESS_KEY_ID=from-the-file\nS3_SECRET_ACCESS_KEY=file-secret-value\n")
    result = _load(tmp_path, _env(tmp_path))
    assert result.returncode != 0
    assert "S3_ACCESS_KEY_ID is set in a file but not in this process's environment" in result.stderr
    assert 'eval "$(weather-platform stack env)"' in result.stderr
    assert "file-secret-value" not in result.stderr


def test_loading_the_definitions_does_not_import_pandas_boto3_or_dagster_aws(tmp_path: Path) -> None:
    """The code server and every run import the definitions: pandas (≈ 40 MB, 0.3 s) waits for the first Spark
    Connect session, Arrow's Acero (which brings it) for the first bronze batch, boto3 for the first S3 client, and
    dagster-aws (0.4-0.5 s) is not used at all."""
    env = _env(tmp_path, **{name: "placeholder" for name in SECRETS})
    heavy = ("pandas", "pyarrow.acero", "boto3", "dagster_aws")
    probe = f"{LOAD}; import sys; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"
