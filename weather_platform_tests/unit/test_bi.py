"""BI connection files: the Power BI data source points at gold and carries no secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from weather_platform.cli import main


def test_powerbi_file_names_the_warehouse_and_holds_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "never-in-the-file-7f3a"
    for name, value in {
        "POSTGRES_HOST": "db.example.internal", "POSTGRES_PORT": "6543", "POSTGRES_DB": "weather_dw",
        "POSTGRES_PASSWORD": secret, "WEATHER_READER_PASSWORD": secret,
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    target = tmp_path / "gold.pbids"
    assert main(["bi", "powerbi", "--output", str(target)]) == 0
    text = target.read_text(encoding="utf-8")
    assert secret not in text
    document = json.loads(text)
    assert document["version"] == "0.1"
    (connection,) = document["connections"]
    assert connection["details"] == {
        "protocol": "postgresql",
        "address": {"server": "db.example.internal:6543", "database": "weather_dw"},
    }
    assert connection["mode"] == "Import"
