"""REST API latency and the dashboard's time to a rendered chart, over a year of hourly data for 100 cities.

    python -m weather_platform_tests.benchmarks.bench_api [--days 365] [--requests 200]

Needs the stack's PostgreSQL (`eval "$(weather-platform stack env)"`) and, for the browser figure, Debian's chromium
and chromium-driver. Loads `--days` days of hourly observations for 100 stations (876,000 detailed rows for a year)
with their daily and hourly aggregates into a throwaway schema through the platform's loader, serves the API on a
real uvicorn server as the read-only role, then times `--requests` requests of each kind from one client: a week
of one city's observations, a year of one city's daily rows, a day of one city's hourly rows. Targets (issue 13):
p95 under 50 ms per API page and the city page's charts drawn under 1 s. Figures are reported, never asserted
(docs/DESIGN.md §7).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import time
from datetime import UTC, date, datetime, timedelta

import psycopg
import requests
from psycopg import sql

from weather_platform.api.app import create_app
from weather_platform.settings import load_settings
from weather_platform.warehouse.loader import load_day
from weather_platform.warehouse.migrations import migrate
from weather_platform.warehouse.tables import DAILY_AGGREGATES, DETAILED, HOURLY_AGGREGATES
from weather_platform_tests.api_server import serving
from weather_platform_tests.benchmarks.bench_gold_load import aggregate_rows, detailed_rows

FIRST_DAY = date(2025, 1, 1)
STATIONS_PER_CITY = 4  # the simulator's 25 cities x 4: 100 stations
TARGET_P95_MS = 50.0
TARGET_CHART_S = 1.0


def _load(days: int, schema: str) -> tuple[int, float, list[str]]:
    settings = load_settings()
    rows = 0
    started = time.perf_counter()
    stations: list[str] = []
    with psycopg.connect(**settings.postgres_connect_kwargs(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        migrate(conn, schema)
        for offset in range(days):
            day = FIRST_DAY + timedelta(days=offset)
            detailed = detailed_rows(100 * 24, day, seed=offset, stations_per_city=STATIONS_PER_CITY)
            stations = sorted(set(detailed["city"].to_pylist()))
            load_day(conn, DETAILED, day, detailed, "bench-api", schema)
            load_day(conn, DAILY_AGGREGATES, day, aggregate_rows(detailed, DAILY_AGGREGATES), "bench-api", schema)
            load_day(conn, HOURLY_AGGREGATES, day, aggregate_rows(detailed, HOURLY_AGGREGATES), "bench-api", schema)
            rows += detailed.num_rows
            if offset % 30 == 29:
                print(f"  loaded {offset + 1}/{days} days ({rows:,} observations)", flush=True)
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, DETAILED.name)))
    return rows, time.perf_counter() - started, stations


def _latencies(url: str, make_params: list[dict[str, str]], session: requests.Session) -> list[float]:
    out = []
    for params in make_params:
        started = time.perf_counter()
        response = session.get(url, params=params, timeout=30)
        out.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return out


def _chart_seconds(base: str, city: str, last_day: date, runs: int = 5) -> list[float]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    binary, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver_path:
        print("chromium/chromedriver not found: `make test` installs them; skipping the browser figure")
        return []
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1100"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    start = (last_day - timedelta(days=6)).isoformat()
    page = f"{base}/city?city={requests.utils.quote(city)}&country=GB&grain=hourly&start={start}&end={last_day}"
    seconds = []
    try:
        for _ in range(runs + 1):  # the first load warms the browser's cache of plotly.js
            driver.get("about:blank")
            driver.get(page)
            WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.body.dataset.rendered"))
            seconds.append(float(driver.execute_script("return document.body.dataset.rendered")) / 1000)
    finally:
        driver.quit()
    return seconds[1:]


def _report(label: str, values: list[float], target: float) -> None:
    values = sorted(values)
    p50 = statistics.median(values)
    p95 = values[min(len(values) - 1, round(0.95 * len(values)) - 1)]
    print(f"{label:<44} {p50:8.1f} {p95:8.1f} {p95 / target:10.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    schema = f"bench_api_{datetime.now(UTC):%H%M%S}"
    settings = load_settings()
    print(f"loading {args.days} days x 100 stations, hourly, into schema {schema} …", flush=True)
    rows, load_seconds, stations = _load(args.days, schema)
    print(f"{rows:,} observations (+ aggregates) loaded in {load_seconds:.0f} s ({rows / load_seconds:,.0f} rows/s)")
    last_day = FIRST_DAY + timedelta(days=args.days - 1)
    rng = random.Random(7)
    try:
        with serving(create_app(settings, schema=schema)) as base, requests.Session() as session:
            session.get(f"{base}/health", timeout=10).raise_for_status()

            def week(_: int) -> dict[str, str]:
                end = FIRST_DAY + timedelta(days=rng.randrange(min(6, args.days - 1), args.days))
                return {"city": rng.choice(stations), "start": str(end - timedelta(days=6)), "end": str(end)}

            def day(_: int) -> dict[str, str]:
                when = FIRST_DAY + timedelta(days=rng.randrange(args.days))
                return {"city": rng.choice(stations), "start": str(when), "end": str(when)}

            def whole_range(_: int) -> dict[str, str]:
                return {"city": rng.choice(stations), "start": str(FIRST_DAY), "end": str(last_day)}

            cases = [
                ("observations: one city, 7 days (168 rows)", f"{base}/api/v1/observations", week),
                ("daily: one city, the whole range", f"{base}/api/v1/daily", whole_range),
                ("hourly: one city, one day (24 rows)", f"{base}/api/v1/hourly", day),
            ]
            _latencies(cases[0][1], [cases[0][2](i) for i in range(10)], session)  # warm the pool and the caches
            print(f"\n{'request (' + str(args.requests) + ' each, one client)':<44} {'p50 ms':>8} {'p95 ms':>8} "
                  f"{'p95/50 ms':>10}")  # fmt: skip
            for label, url, params in cases:
                _report(label, _latencies(url, [params(i) for i in range(args.requests)], session), TARGET_P95_MS)
            charts = _chart_seconds(base, "London 01", last_day)
            if charts:
                median = statistics.median(charts)
                print(f"\ncity page, 7 days hourly, time to the drawn charts: median {median:.2f} s, max "
                      f"{max(charts):.2f} s; median / 1 s target: {median / TARGET_CHART_S:.2f}")  # fmt: skip
    finally:
        with psycopg.connect(**settings.postgres_connect_kwargs(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    print(f"host: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (1 min) at the end of the run")


if __name__ == "__main__":
    main()
