"""Error messages written to pipeline_execution_log: credentials masked, length bounded."""

import pytest

from weather_platform.warehouse.execution_log import MAX_ERROR_CHARS, describe_error


@pytest.mark.parametrize(
    ("message", "secret"),
    [
        ("connection failed: host=db port=5432 user=weather_writer password=s3cr3t-Value dbname=weather_dw", "s3cr3t"),
        ("could not connect to postgresql://weather_writer:s3cr3t-Value@db:5432/weather_dw", "s3cr3t"),
        ("GET https://api.example/data/2.5/weather?q=Paris&appid=s3cr3t-Value failed", "s3cr3t"),
        ("settings: {'POSTGRES_PASSWORD': 's3cr3t-Value', 'S3_SECRET_ACCESS_KEY': 's3cr3t-Value'}", "s3cr3t"),
    ],
)
def test_credentials_are_masked(message: str, secret: str) -> None:
    text = describe_error(RuntimeError(message))
    assert secret not in text
    assert text.startswith("RuntimeError: ") and "***" in text


def test_ordinary_text_is_kept() -> None:
    message = 'null value in column "city" of relation "gold_staging" violates not-null constraint'
    assert describe_error(ValueError(message)) == f"ValueError: {message}"


def test_long_messages_are_cut() -> None:
    text = describe_error(RuntimeError("x" * 10_000))
    assert len(text) == MAX_ERROR_CHARS and text.endswith("…")
