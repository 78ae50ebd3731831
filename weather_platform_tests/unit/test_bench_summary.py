"""`make bench`'s summary: rows recorded by separate benchmark processes come back as one table, each target judged
on the side it names (a rate at least its target, a time or a memory below it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from weather_platform_tests.benchmarks.summary import RESULTS_ENV, Row, main, record


def test_rows_recorded_by_benchmarks_are_judged_and_printed_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results.jsonl"
    monkeypatch.setenv(RESULTS_ENV, str(results))
    record(Row("producer", "confluent-kafka: 45,010 msg/s", "ProducerPerformance", 0.76, 0.5, higher_is_better=True))
    record(Row("bronze writer", "drain: 9,025 msg/s", "raw consume", 0.14, 0.5, higher_is_better=True))
    record(Row("peak RSS", "highest of 3 cycles", "3 GiB", 2.92, 3.0, higher_is_better=False, unit="GiB"))
    record(Row("hourly cycle", "median", "20 s", 20.0, 20.0, higher_is_better=False, unit="s"))

    assert main([str(results)]) == 0
    printed = capsys.readouterr().out
    assert "2 of 4 targets met" in printed  # 0.76 >= 0.5 and 2.92 < 3 met; 0.14 and 20 s (not below 20) not
    assert all(stage in printed for stage in ("producer", "bronze writer", "peak RSS", "hourly cycle"))


def test_nothing_is_recorded_without_a_results_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RESULTS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    record(Row("producer", "p", "l", 1.0, 0.5, higher_is_better=True))
    assert list(tmp_path.iterdir()) == []
