"""The REST API on a real uvicorn server over real gold tables in PostgreSQL, read as `weather_reader`.

Gold is loaded by the platform's own loader into a schema of the test's; the API connects as the read-only role.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg
import pyarrow as pa
import pytest
import requests
from psycopg import sql

from weather_platform.api.app import create_app
from weather_platform.settings import Settings
from weather_platform.warehouse.loader import load_day
from weather_platform.warehouse.migrations import migrate
from weather_platform.warehouse.tables import DAILY_AGGREGATES, DETAILED, HOURLY_AGGREGATES
from weather_platform_tests.api_server import serving
from weather_platform_tests.benchmarks.bench_gold_load import aggregate_rows, detailed_rows

pytestmark = pytest.mark.integration
DAYS = (date(2026, 3, 13), date(2026, 3, 14))
NOW = datetime(2026, 3, 14, 23, 30, tzinfo=UTC)
ROWS_PER_DAY = 2400  # 1,000 stations: 2 or 3 readings a day each
HOSTILE = "Robert'); DROP TABLE gold_weather_detailed;--"


@pytest.fixture(scope="module")
def gold(settings: Settings) -> Iterator[tuple[str, dict[date, pa.Table]]]:
    schema = f"api_{datetime.now(UTC):%H%M%S%f}"
    kwargs = settings.postgres_connect_kwargs()
    loaded: dict[date, pa.Table] = {}
    with psycopg.connect(**kwargs, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        migrate(conn, schema)
        for seed, day in enumerate(DAYS):
            rows = detailed_rows(ROWS_PER_DAY, day, seed=seed + 11)
            loaded[day] = rows
            load_day(conn, DETAILED, day, rows, "api-test", schema)
            load_day(conn, DAILY_AGGREGATES, day, aggregate_rows(rows, DAILY_AGGREGATES), "api-test", schema)
            load_day(conn, HOURLY_AGGREGATES, day, aggregate_rows(rows, HOURLY_AGGREGATES), "api-test", schema)
        yield schema, loaded
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(scope="module")
def api(settings: Settings, gold: tuple[str, dict[date, pa.Table]]) -> Iterator[str]:
    with serving(create_app(settings, clock=lambda: NOW, schema=gold[0])) as url:
        yield url


def pg_round(value: float, decimals: int) -> float:
    """PostgreSQL's round(numeric): half away from zero, on the double's shortest decimal text."""
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def get(url: str, **params: Any) -> requests.Response:
    return requests.get(url, params=params, timeout=30)


def test_health_answers_when_postgresql_does(api: str) -> None:
    response = get(f"{api}/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_health_is_503_naming_postgresql_when_it_does_not_answer(settings: Settings) -> None:
    dead = settings.model_copy(update={"postgres_port": 1})
    with serving(create_app(dead)) as url:
        response = get(f"{url}/health")
        listing = get(f"{url}/api/v1/latest")
    assert response.status_code == 503 and listing.status_code == 503
    assert (
        response.json()["detail"] == f"PostgreSQL at {settings.postgres_host}:1/{settings.postgres_db} is not answering"
    )


def test_latest_has_each_city_once_rounded_with_its_freshness(api: str, gold: tuple[str, dict[date, pa.Table]]) -> None:
    rows = pa.concat_tables(gold[1].values()).to_pylist()
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["city"], row["country"])
        if key not in newest or row["timestamp"] > newest[key]["timestamp"]:
            newest[key] = row
    latest = get(f"{api}/api/v1/latest").json()
    assert len(latest) == len(newest) == 1000
    for item in latest[:50]:
        expected = newest[(item["city"], item["country"])]
        assert item["temperature"] == pg_round(expected["temperature"], 1)
        assert item["humidity"] == pg_round(expected["humidity"], 0)
        age = NOW - expected["timestamp"]
        assert item["age_minutes"] == round(age.total_seconds() / 60)
        assert item["freshness"] == (
            "stale" if age > timedelta(hours=6) else "warn" if age > timedelta(hours=2) else "ok"
        )


def test_observation_pages_walk_every_row_once_in_time_order(api: str, gold: tuple[str, dict[date, pa.Table]]) -> None:
    seen: list[tuple[str, str]] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"start": "2026-03-13", "end": "2026-03-14", "limit": 700}
        if cursor:
            params["cursor"] = cursor
        body = get(f"{api}/api/v1/observations", **params).json()
        seen += [(r["timestamp"], r["city"]) for r in body["data"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 7  # 4,800 rows, 700 a page
    assert len(seen) == len(set(seen)) == 2 * ROWS_PER_DAY
    assert [t for t, _ in seen] == sorted(t for t, _ in seen)


def test_one_citys_observations_daily_and_hourly_rows(api: str, gold: tuple[str, dict[date, pa.Table]]) -> None:
    city = gold[1][DAYS[0]]["city"][0].as_py()
    country = gold[1][DAYS[0]]["country"][0].as_py()
    expected = sorted(
        (r["timestamp"], pg_round(r["temperature"], 1))
        for r in pa.concat_tables(gold[1].values()).to_pylist()
        if r["city"] == city
    )
    observations = get(f"{api}/api/v1/observations", city=city, country=country, start="2026-03-13", end="2026-03-14")
    got = [(datetime.fromisoformat(r["timestamp"]), r["temperature"]) for r in observations.json()["data"]]
    assert got == expected and len(got) >= 4
    daily = get(f"{api}/api/v1/daily", city=city, start="2026-03-13", end="2026-03-14").json()["data"]
    assert [d["date"] for d in daily] == ["2026-03-13", "2026-03-14"]
    for day in daily:
        temps = [t for ts, t in expected if ts.date().isoformat() == day["date"]]
        assert day["observation_count"] == len(temps)
    hourly = get(f"{api}/api/v1/hourly", city=city, start="2026-03-14T00:00Z", end="2026-03-15T00:00Z").json()["data"]
    assert sum(h["observation_count"] for h in hourly) == daily[1]["observation_count"]


def test_quality_measures_hours_against_those_expected(api: str, gold: tuple[str, dict[date, pa.Table]]) -> None:
    cells = get(f"{api}/api/v1/quality", start="2026-03-13", end="2026-03-14").json()
    assert len(cells) == 2 * 1000
    first = cells[0]
    assert first["hours_expected"] == 24 and 0 < first["completeness"] <= 1
    assert first["completeness"] == round(first["hours_observed"] / 24, 3)


@pytest.mark.parametrize(
    ("path", "params", "status", "parameter", "says"),
    [
        ("observations", {"city": "Atlantis"}, 404, "city", "no observations of 'Atlantis'"),
        ("observations", {"city": HOSTILE}, 404, "city", "DROP TABLE"),
        ("daily", {"start": "2026-03-14", "end": "2026-03-01"}, 422, "end", "must be after start"),
        ("hourly", {"start": "2024-01-01", "end": "2026-01-01"}, 422, "end", "at most 366 days"),
        ("observations", {"start": "14/03/2026"}, 422, "start", "not an ISO-8601 date"),
        ("observations", {"limit": 0}, 422, "limit", "between 1 and 1000"),
        ("observations", {"limit": "ten"}, 422, "limit", "valid integer"),
        ("observations", {"cursor": "garbage!"}, 422, "cursor", "not a cursor"),
        ("daily", {"end": "9999-12-31"}, 422, "end", ""),
        ("observations", {"city": "Lon\x00don"}, 422, "city", "NUL"),
    ],
)
def test_bad_input_is_a_4xx_that_names_the_parameter(
    api: str, path: str, params: dict[str, Any], status: int, parameter: str, says: str
) -> None:
    response = get(f"{api}/api/v1/{path}", **params)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["parameter"] == parameter and says in body["detail"]
    assert "Traceback" not in response.text


def test_no_endpoint_writes(api: str, gold: tuple[str, dict[date, pa.Table]], settings: Settings) -> None:
    document = get(f"{api}/openapi.json").json()
    methods = {method for operations in document["paths"].values() for method in operations}
    assert methods == {"get"}
    assert requests.post(f"{api}/api/v1/observations", json={}, timeout=10).status_code == 405
    with psycopg.connect(**settings.postgres_connect_kwargs()) as conn:
        count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(gold[0], DETAILED.name)))
        assert count.fetchone() == (2 * ROWS_PER_DAY,)


def test_schemathesis_finds_no_server_error_and_no_schema_violation(api: str) -> None:
    """Generated requests against every operation of the live API's OpenAPI document."""
    result = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{api}/openapi.json", "--checks",
         "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
         "--max-examples", "40", "--seed", "7", "--no-color"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
