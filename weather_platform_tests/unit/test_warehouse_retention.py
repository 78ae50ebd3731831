"""Gold retention keeps exactly the last `keep_days` days (the job's dry run and real run share this cutoff)."""

from datetime import date

from weather_platform.warehouse.retention import gold_cutoff


def test_cutoff_is_the_oldest_day_kept() -> None:
    assert gold_cutoff(date(2024, 7, 15), 365) == date(2023, 7, 16)  # 2024 is a leap year
    assert gold_cutoff(date(2024, 7, 15)) == date(2023, 7, 16)
    assert gold_cutoff(date(2024, 7, 15), 1) == date(2024, 7, 14)
