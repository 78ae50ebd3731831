"""The dashboard in a real headless Chromium, over gold loaded by the pipeline itself (simulator → Dagster → gold).

Each page must load without a console error and show gold's numbers: the tables' cells and the charts' data are
compared with what the analyst views hold. Screenshots land in `weather_platform_tests/e2e/screenshots/` (ignored by
git) for a person to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from weather_platform.api.app import create_app
from weather_platform.assets.bronze import kafka_drain, weather_raw
from weather_platform.assets.gold import GOLD_ASSETS
from weather_platform.assets.ingestion import weather_events
from weather_platform.assets.silver import silver
from weather_platform_tests.api_server import serving
from weather_platform_tests.e2e.conftest import Pipeline

pytestmark = pytest.mark.e2e
DAY = date(2026, 3, 14)
HOURS = (0, 3, 6, 9, 12, 15)
NOW = datetime(2026, 3, 14, 16, 0, tzinfo=UTC)
SCREENSHOTS = Path(__file__).parent / "screenshots"


def _chromium() -> webdriver.Chrome:
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver:
        pytest.fail("Debian's chromium and chromium-driver are needed: `make test` installs them (apt-get)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1100", "--lang=en"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options)


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    driver = _chromium()
    yield driver
    driver.quit()


@pytest.fixture
def site(pipeline: Pipeline) -> Iterator[tuple[str, Pipeline]]:
    for hour in HOURS:
        pipeline.set_time(datetime(DAY.year, DAY.month, DAY.day, hour, 5, tzinfo=UTC))
        assert dg.materialize([weather_events], resources=pipeline.resources, instance=pipeline.instance).success
    result = dg.materialize([kafka_drain, weather_raw, silver, *GOLD_ASSETS], partition_key=DAY.isoformat(),
                            resources=pipeline.resources, instance=pipeline.instance)  # fmt: skip
    assert result.success
    schema = pipeline.resources["postgres"].search_path
    with serving(create_app(pipeline.settings, clock=lambda: NOW, schema=schema)) as url:
        yield url, pipeline


def _gold(p: Pipeline, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with p.resources["postgres"].connect() as conn:
        return conn.execute(query, params).fetchall()


def _open(browser: webdriver.Chrome, url: str, name: str, refused: bool = False) -> None:
    """Load a page and wait for its charts; no console error, but for the page's own 4xx when it is `refused`."""
    browser.get_log("browser")  # drop what an earlier page logged
    browser.get(url)
    WebDriverWait(browser, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")
    WebDriverWait(browser, 20).until(
        lambda d: d.execute_script("return [...document.querySelectorAll('.chart')].every(c => c.data || !c.id)")
    )
    SCREENSHOTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    errors = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    if refused:
        own = [e for e in errors if e.startswith(f"{url} - ") and "status of 4" in e]
        assert len(own) == 1, errors
        errors.remove(own[0])
    assert errors == [], errors


def _numbers(values: list[Any]) -> list[float | None]:
    return [None if v is None else float(v) for v in values]


def test_pages_show_golds_numbers(browser: webdriver.Chrome, site: tuple[str, Pipeline]) -> None:
    url, p = site
    # Overview: every city's latest reading in the table and on the map.
    _open(browser, f"{url}/", "overview")
    latest = _gold(p, "SELECT city, temperature, feels_like_c, humidity FROM v_weather_latest ORDER BY city")
    assert len(latest) == 3
    for city, temperature, feels_like, humidity in latest:
        row = browser.find_element(By.CSS_SELECTOR, f"#latest tr[data-city='{city}']")
        assert row.find_element(By.CSS_SELECTOR, "[data-field=temperature]").text == str(temperature)
        assert row.find_element(By.CSS_SELECTOR, "[data-field=feels_like_c]").text == str(feels_like)
        assert row.find_element(By.CSS_SELECTOR, "[data-field=humidity]").text == str(humidity)
    marker_colors = browser.execute_script("return document.getElementById('map').data[1].marker.color")
    assert sorted(_numbers(marker_colors)) == sorted(_numbers([t for _, t, _, _ in latest]))

    # City page, hourly: the table and the temperature chart hold v_weather_hourly's values.
    _open(browser, f"{url}/city?city=London&country=GB&grain=hourly&start=2026-03-14&end=2026-03-14", "city-hourly")
    hourly = _gold(p, "SELECT avg_temperature, total_rain_mm FROM v_weather_hourly WHERE city = 'London' ORDER BY hour")
    assert len(hourly) == len(HOURS)
    cells = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#rows [data-field=avg_temperature]")]
    assert cells == [str(t) for t, _ in hourly]
    chart = browser.execute_script("return document.getElementById('temperature-chart').data[2].y")
    assert _numbers(chart) == _numbers([t for t, _ in hourly])
    bars = browser.execute_script("return document.getElementById('precipitation-chart').data[0].y")
    assert _numbers(bars) == _numbers([r for _, r in hourly])

    # Compare: one line per city with its daily mean.
    _open(browser, f"{url}/compare?city=London,GB&city=Paris,FR&start=2026-03-14&end=2026-03-14", "compare")
    daily = dict(_gold(p, "SELECT city, avg_temperature FROM v_weather_daily_trend WHERE date = %s", DAY))
    traces = browser.execute_script("return document.getElementById('compare-chart').data.map(t => [t.name, t.y[0]])")
    assert {name: Decimal(str(y)) for name, y in traces} == {"London,GB": daily["London"], "Paris,FR": daily["Paris"]}

    # Data quality: the completeness heat map and the runs the pipeline logged.
    _open(browser, f"{url}/quality?start=2026-03-14&end=2026-03-14", "quality")
    z = browser.execute_script("return document.getElementById('completeness-chart').data[0].z")
    assert z == [[round(len(HOURS) / 17, 3)]] * 3  # 6 of the 17 hours begun by 16:00
    statuses = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#runs .badge")]
    assert statuses and set(statuses) == {"success"}


def test_a_bad_parameter_shows_a_readable_message(browser: webdriver.Chrome, site: tuple[str, Pipeline]) -> None:
    url, _ = site
    _open(browser, f"{url}/city?city=London&country=GB&start=last-tuesday", "city-bad-parameter", refused=True)
    message = browser.find_element(By.ID, "error").text
    assert message.startswith("start: 'last-tuesday' is not an ISO-8601 date")
    _open(browser, f"{url}/compare?city=London,GB", "compare-one-city", refused=True)
    assert browser.find_element(By.ID, "error").text == "city: compare takes two to five cities, not 1"


def test_the_api_docs_render_offline(browser: webdriver.Chrome, site: tuple[str, Pipeline]) -> None:
    url, _ = site
    _open(browser, f"{url}/docs", "api-docs")
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
    paths = {e.text for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert {"/api/v1/observations", "/api/v1/daily", "/api/v1/hourly", "/health"} <= paths
    scripts = browser.execute_script("return [...document.scripts].map(s => s.src).filter(Boolean)")
    assert scripts and all(src.startswith(url) for src in scripts)  # nothing from outside this server
