"""The simulator: OpenWeather's shape, determinism, physical plausibility, and fault injection over HTTP."""

from __future__ import annotations

import statistics
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from weather_platform.sources.simulator import (
    CITIES,
    City,
    Fault,
    FaultPlan,
    SimulatorServer,
    current_weather,
    find_city,
    hourly_precipitation,
)

NOW = datetime(2024, 1, 15, 12, 4, tzinfo=UTC)


TOKEN = "it-fault-token"
AUTH = {"X-Fault-Token": TOKEN}


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(port=0, clock=lambda: NOW, invalid_api_key="bad-key", fault_token=TOKEN) as server:
        yield server


def get(sim: SimulatorServer, q: str, **params: str) -> requests.Response:
    return requests.get(f"{sim.base_url}/weather", params={"q": q, "units": "metric", **params}, timeout=5)


@pytest.fixture(scope="module")
def year() -> dict[str, list[dict[str, Any]]]:
    """Every city every 11 hours through 2024 (11 h steps visit every hour of the day)."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    moments = [start + timedelta(hours=h) for h in range(0, 366 * 24, 11)]
    return {city.name: [current_weather(city, moment) for moment in moments] for city in CITIES}


def city(name: str) -> City:
    found = find_city(name)
    assert found is not None
    return found


def test_health(sim: SimulatorServer) -> None:
    response = requests.get(f"{sim.url}/health", timeout=5)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert sim.base_url.endswith("/data/2.5")


def test_answer_has_openweather_shape(sim: SimulatorServer) -> None:
    response = get(sim, "London,GB", appid="any-key")

    assert response.status_code == 200
    payload = response.json()
    assert [key for key in payload if key not in ("rain", "snow")] == [
        "coord",
        "weather",
        "base",
        "main",
        "visibility",
        "wind",
        "clouds",
        "dt",
        "sys",
        "timezone",
        "id",
        "name",
        "cod",
    ]
    assert set(payload["main"]) == {
        "temp",
        "feels_like",
        "temp_min",
        "temp_max",
        "pressure",
        "humidity",
        "sea_level",
        "grnd_level",
    }
    assert set(payload["weather"][0]) == {"id", "main", "description", "icon"}
    assert {"speed", "deg"} <= set(payload["wind"])
    assert (payload["name"], payload["sys"]["country"], payload["id"], payload["cod"]) == ("London", "GB", 2643743, 200)
    assert payload["dt"] == int(datetime(2024, 1, 15, 12, 0, tzinfo=UTC).timestamp())


def test_city_lookup_follows_openweather_q() -> None:
    assert city("paris").name == "Paris"
    assert city("New York,NY,US").country == "US"
    assert find_city("Paris,US") is None
    assert find_city("Atlantis") is None


def test_same_city_and_time_bucket_give_the_same_json(sim: SimulatorServer) -> None:
    first, second = get(sim, "Tokyo,JP").content, get(sim, "Tokyo,JP").content
    assert first == second

    paris = city("Paris,FR")
    at = datetime(2024, 3, 3, 9, 0, tzinfo=UTC)
    assert current_weather(paris, at) == current_weather(paris, at + timedelta(minutes=9, seconds=59))
    assert current_weather(paris, at)["dt"] != current_weather(paris, at + timedelta(minutes=10))["dt"]
    assert current_weather(paris, at) != current_weather(city("London"), at)


def test_units_follow_openweather(sim: SimulatorServer) -> None:
    metric = get(sim, "Paris").json()["main"]["temp"]
    kelvin = requests.get(f"{sim.base_url}/weather", params={"q": "Paris"}, timeout=5).json()["main"]["temp"]
    fahrenheit = get(sim, "Paris", units="imperial").json()["main"]["temp"]
    assert kelvin == pytest.approx(metric + 273.15, abs=0.01)
    assert fahrenheit == pytest.approx(metric * 9 / 5 + 32, abs=0.01)


def test_unknown_city_and_bad_key(sim: SimulatorServer) -> None:
    unknown = get(sim, "Atlantis,XX")
    rejected = get(sim, "Paris,FR", appid="bad-key")

    assert (unknown.status_code, unknown.json()) == (404, {"cod": "404", "message": "city not found"})
    assert rejected.status_code == 401 and rejected.json()["cod"] == 401
    assert get(sim, "Paris,FR").status_code == 200  # no key at all is accepted too


def test_temperatures_follow_latitude_and_hemisphere(year: dict[str, list[dict[str, Any]]]) -> None:
    def temps(name: str, months: range = range(1, 13)) -> list[float]:
        return [p["main"]["temp"] for p in year[name] if datetime.fromtimestamp(p["dt"], tz=UTC).month in months]

    assert all(-45 < t < 50 for samples in year.values() for t in (p["main"]["temp"] for p in samples))
    assert min(temps("Singapore")) > 20 and max(temps("Singapore")) < 36
    assert min(temps("Oslo")) < -5 and max(temps("Oslo")) > 15
    assert statistics.mean(temps("Oslo")) < statistics.mean(temps("Paris")) < statistics.mean(temps("Cairo"))
    assert statistics.mean(temps("Moscow", range(1, 2))) < 0 < statistics.mean(temps("Moscow", range(7, 8))) - 15
    assert statistics.mean(temps("Sydney", range(1, 2))) > statistics.mean(temps("Sydney", range(7, 8))) + 5
    assert statistics.mean(temps("Nairobi")) < statistics.mean(temps("Mumbai"))  # altitude cools


def test_every_value_is_physically_consistent(year: dict[str, list[dict[str, Any]]]) -> None:
    for samples in year.values():
        for p in samples:
            main, temp, clouds = p["main"], p["main"]["temp"], p["clouds"]["all"]
            assert 0 <= main["humidity"] <= 100 and 0 <= clouds <= 100
            assert 980 <= main["pressure"] <= 1045 and main["grnd_level"] <= main["pressure"]
            assert main["temp_min"] <= temp <= main["temp_max"]
            assert p["wind"]["speed"] >= 0 and 0 <= p["wind"]["deg"] < 360
            assert p["wind"].get("gust", p["wind"]["speed"]) >= p["wind"]["speed"]
            assert 0 < p["visibility"] <= 10000
            assert p["sys"]["sunrise"] <= p["sys"]["sunset"]
            assert not ("rain" in p and "snow" in p)
            # The phase follows the hour's temperature (precipitation is modelled per clock hour), so a reading's
            # own temperature may sit a little on the other side of 0 °C, never far.
            if "rain" in p:
                assert temp > -3 and clouds > 80 and p["rain"]["1h"] > 0 and p["weather"][0]["main"] == "Rain"
            if "snow" in p:
                assert temp < 3 and clouds > 80 and p["snow"]["1h"] > 0 and p["weather"][0]["main"] == "Snow"
            if p["weather"][0]["main"] in ("Rain", "Snow"):
                assert main["humidity"] >= 85
    moscow = year["Moscow"]
    assert any("rain" in p for p in moscow) and any("snow" in p for p in moscow)
    assert not any("snow" in p for p in year["Singapore"])
    pressures = [p["main"]["pressure"] for samples in year.values() for p in samples]
    assert 1008 < statistics.mean(pressures) < 1018 and 4 < statistics.stdev(pressures) < 15


def local_hour(p: dict[str, Any]) -> int:
    return datetime.fromtimestamp(p["dt"] + p["timezone"], tz=UTC).hour


def test_afternoons_are_warmer_and_drier_than_pre_dawn(year: dict[str, list[dict[str, Any]]]) -> None:
    for name, samples in year.items():
        afternoon = [p["main"] for p in samples if 14 <= local_hour(p) <= 16]
        pre_dawn = [p["main"] for p in samples if 3 <= local_hour(p) <= 5]
        warmer = statistics.mean(m["temp"] for m in afternoon) - statistics.mean(m["temp"] for m in pre_dawn)
        drier = statistics.mean(m["humidity"] for m in pre_dawn) - statistics.mean(m["humidity"] for m in afternoon)
        assert warmer > 2, name
        assert drier > 2, name


def test_day_length_follows_latitude_and_season() -> None:
    def day_hours(name: str, month: int) -> float:
        p = current_weather(city(name), datetime(2024, month, 21, 12, tzinfo=UTC))
        return (p["sys"]["sunset"] - p["sys"]["sunrise"]) / 3600

    assert day_hours("London", 6) > 16 > 8 > day_hours("London", 12)
    assert 11.5 < day_hours("Singapore", 6) < 12.5
    assert day_hours("Sydney", 12) > day_hours("Sydney", 6)
    noon = current_weather(city("Tokyo"), datetime(2024, 3, 21, 3, tzinfo=UTC))  # local noon
    assert noon["sys"]["sunrise"] < noon["dt"] < noon["sys"]["sunset"] and noon["weather"][0]["icon"].endswith("d")


def test_faults_over_http_fail_a_set_number_of_times(sim: SimulatorServer) -> None:
    fault = {"city": "Paris,FR", "status": 503, "retry_after": 2, "times": 2}
    assert requests.post(f"{sim.url}/_faults", json=fault, headers=AUTH, timeout=5).status_code == 200

    first, second, third = (get(sim, "Paris,FR") for _ in range(3))

    assert (first.status_code, first.headers["Retry-After"]) == (503, "2")
    assert second.status_code == 503 and third.status_code == 200
    assert get(sim, "London,GB").status_code == 200
    assert requests.get(f"{sim.url}/_faults", headers=AUTH, timeout=5).json() == {}


def test_faults_for_all_cities_until_cleared_over_http(sim: SimulatorServer) -> None:
    requests.post(f"{sim.url}/_faults", json={"status": 429}, headers=AUTH, timeout=5).raise_for_status()

    limited = get(sim, "Tokyo")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "1")
    assert get(sim, "London").status_code == 429

    requests.delete(f"{sim.url}/_faults", headers=AUTH, timeout=5).raise_for_status()
    assert get(sim, "London").status_code == 200


def test_bad_fault_requests_are_refused(sim: SimulatorServer) -> None:
    for body in ({"status": 200}, {"colour": "red"}, {"missing_fields": "main.temp"}, {"times": 0}):
        assert requests.post(f"{sim.url}/_faults", json=body, headers=AUTH, timeout=5).status_code == 400, body
    assert requests.post(f"{sim.url}/_faults", data=b"{oops", headers=AUTH, timeout=5).status_code == 400


def test_payload_faults(sim: SimulatorServer) -> None:
    sim.faults.set(Fault(missing_fields=("main.temp", "wind", "no.such.path")), city="Paris")
    payload = get(sim, "Paris").json()
    assert "temp" not in payload["main"] and "wind" not in payload and "humidity" in payload["main"]

    sim.faults.set(Fault(absurd_values=True), city="Paris")
    main = get(sim, "Paris").json()["main"]
    assert (main["temp"], main["humidity"]) == (999.0, 250)

    sim.faults.set(Fault(malformed_json=True), city="Paris")
    with pytest.raises(requests.JSONDecodeError):
        get(sim, "Paris").json()


def test_fault_plan_counts_uses_across_threads() -> None:
    plan = FaultPlan()
    plan.set(Fault(status=500, times=50), city="Paris")
    taken: list[Fault | None] = []

    def worker() -> None:
        for _ in range(40):
            taken.append(plan.take("Paris,FR"))

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(fault is not None for fault in taken) == 50
    assert plan.take("paris") is None and plan.snapshot() == {}


def test_fault_injection_needs_the_token() -> None:
    with SimulatorServer(port=0, clock=lambda: NOW, fault_token=TOKEN) as guarded:
        for headers in ({}, {"X-Fault-Token": "guess"}):
            refused = requests.post(f"{guarded.url}/_faults", json={"status": 500}, headers=headers, timeout=5)
            assert refused.status_code == 403 and "X-Fault-Token" in refused.json()["error"]
            assert requests.delete(f"{guarded.url}/_faults", headers=headers, timeout=5).status_code == 403
        assert guarded.faults.snapshot() == {}
        assert get(guarded, "London,GB").status_code == 200
    with SimulatorServer(port=0, clock=lambda: NOW) as open_server:  # no token: no fault injection at all
        refused = requests.post(f"{open_server.url}/_faults", json={"status": 500}, headers=AUTH, timeout=5)
        assert refused.status_code == 403 and "SIMULATOR_FAULT_TOKEN" in refused.json()["error"]


def test_every_reading_of_an_hour_reports_that_hours_accumulation() -> None:
    """rain.1h/snow.1h is the accumulation of the clock hour the reading's last hour ends in (`hourly_precipitation`),
    the same in each reading of it: 10:15 … 11:00 report 10:00-11:00."""
    london = find_city("London,GB")
    assert london is not None
    start = datetime(2026, 3, 12, tzinfo=UTC)
    wet_hours = 0
    for hour in range(72):
        hour_start = start + timedelta(hours=hour)
        expected = hourly_precipitation(london, int(hour_start.timestamp()))
        wet_hours += expected.kind is not None
        for minute in (10, 15, 30, 45, 59, 60):  # a reading stamped 10:00 closes 09:00-10:00
            payload = current_weather(london, hour_start + timedelta(minutes=minute))
            reported = {kind: payload[kind.lower()]["1h"] for kind in ("Rain", "Snow") if kind.lower() in payload}
            assert reported == ({expected.kind: expected.amount_mm} if expected.kind else {}), (hour, minute)
    assert 0 < wet_hours < 72
