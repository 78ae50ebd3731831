"""Open-Meteo: the simulator answers its geocoder, forecast and archive in Open-Meteo's shapes from its own model,
and the mapping turns those answers into observations of the contract (one bad hour never costs the others)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from weather_platform.settings import InvalidSetting, parse_cities, split_city
from weather_platform.sources.observation import InvalidObservation
from weather_platform.sources.open_meteo import (
    SOURCE,
    VARIABLES,
    OpenMeteoClient,
    Place,
    current_observation,
    hourly_observations,
    parse_place,
)
from weather_platform.sources.openweather import CityNotFound, InvalidResponse, ServerError
from weather_platform.sources.simulator import SimulatorServer, find_city, hourly_precipitation
from weather_platform.streaming.producer import Delivery, Message

NOW = datetime(2024, 1, 15, 12, 7, tzinfo=UTC)
TOKEN = "it-fault-token"
BERLIN = find_city("Berlin,DE")
OSLO = find_city("Oslo,NO")


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(port=0, clock=lambda: NOW, fault_token=TOKEN) as server:
        yield server


def _get(sim: SimulatorServer, path: str, **params: Any) -> requests.Response:
    return requests.get(f"{sim.url}{path}", params=params, timeout=5)


def _place(sim: SimulatorServer, name: str) -> Place:
    answer = _get(sim, "/v1/search", name=name, count=1, language="en", format="json")
    assert answer.status_code == 200
    return parse_place(answer.json(), name)


def _archive(sim: SimulatorServer, place: Place, start: str, end: str, **extra: Any) -> requests.Response:
    return _get(
        sim, "/v1/archive", latitude=place.latitude, longitude=place.longitude, start_date=start, end_date=end,
        hourly=",".join(VARIABLES), wind_speed_unit="ms", timezone="GMT", **extra,
    )  # fmt: skip


def test_the_geocoder_resolves_a_known_city_and_names_an_unknown_one(sim: SimulatorServer) -> None:
    assert BERLIN is not None
    place = _place(sim, "Berlin")
    assert (place.name, place.country_code, place.latitude, place.longitude) == ("Berlin", "DE", BERLIN.lat, BERLIN.lon)
    unknown = _get(sim, "/v1/search", name="Atlantis", count=1)
    assert unknown.status_code == 200 and "results" not in unknown.json()  # Open-Meteo's answer for no match
    with pytest.raises(InvalidObservation, match="the geocoder knows no 'Atlantis'"):
        parse_place(unknown.json(), "Atlantis")


def test_an_archive_month_maps_to_one_observation_per_hour_with_the_models_accumulations(sim: SimulatorServer) -> None:
    place = _place(sim, "Oslo")
    answer = _archive(sim, place, "2023-12-01", "2023-12-31")
    assert answer.status_code == 200
    payload = answer.json()
    assert payload["hourly_units"]["wind_speed_10m"] == "m/s" and payload["hourly_units"]["snowfall"] == "cm"
    rows = hourly_observations(payload, place, NOW)
    assert rows.rejected == []
    assert len(rows.observations) == 31 * 24
    first = rows.observations[0]
    assert (first.source, first.city, first.country, first.timestamp) == (SOURCE, "Oslo", "NO", "2023-12-01T00:00:00Z")
    assert OSLO is not None
    wet = 0
    for obs in rows.observations:
        moment = int(datetime.fromisoformat(obs.timestamp.replace("Z", "+00:00")).timestamp())
        falling = hourly_precipitation(OSLO, moment - 3600)  # the hour *before* the timestamp, as Open-Meteo sums it
        assert obs.rain_1h == (falling.amount_mm if falling.kind == "Rain" else None)
        if falling.kind == "Snow":
            assert obs.snow_1h == pytest.approx(falling.amount_mm, abs=0.02)  # cm of snow back to mm of water
        else:
            assert obs.snow_1h is None
        wet += falling.kind is not None
    assert wet > 0  # a December in Oslo has precipitation to compare


def test_the_current_block_is_the_quarter_hour_in_progress(sim: SimulatorServer) -> None:
    place = _place(sim, "Berlin")
    answer = _get(sim, "/v1/forecast", latitude=place.latitude, longitude=place.longitude,
                  current=",".join(VARIABLES), wind_speed_unit="ms", timezone="GMT")  # fmt: skip
    assert answer.status_code == 200
    payload = answer.json()
    assert payload["current"]["interval"] == 900 and payload["current_units"]["temperature_2m"] == "°C"
    obs = current_observation(payload, place, NOW)
    assert obs.timestamp == "2024-01-15T12:00:00Z" and obs.city_id == place.id
    assert -60 < obs.temperature < 60 and obs.humidity is not None and 0 <= obs.humidity <= 100


def test_hours_not_yet_observed_are_null_and_rejected_alone(sim: SimulatorServer) -> None:
    place = _place(sim, "Berlin")
    rows = hourly_observations(_archive(sim, place, "2024-01-15", "2024-01-15").json(), place, NOW)
    assert len(rows.observations) == 13  # 00:00 … 12:00 have happened at 12:07
    assert len(rows.rejected) == 11 and all("temperature" in reason for _, reason in rows.rejected)


def test_wind_defaults_to_kmh_as_open_meteo_does(sim: SimulatorServer) -> None:
    place = _place(sim, "Berlin")
    common = {"latitude": place.latitude, "longitude": place.longitude, "current": "wind_speed_10m"}
    kmh = _get(sim, "/v1/forecast", **common).json()
    ms = _get(sim, "/v1/forecast", **common, wind_speed_unit="ms").json()
    assert kmh["current_units"]["wind_speed_10m"] == "km/h"
    assert kmh["current"]["wind_speed_10m"] == pytest.approx(ms["current"]["wind_speed_10m"] * 3.6, abs=0.01)


@pytest.mark.parametrize(
    ("fault", "status", "header"),
    [({"status": 429, "retry_after": 2}, 429, "2"), ({"status": 500}, 500, None)],
    ids=["rate-limited", "server-error"],
)
def test_faults_apply_to_the_archive_of_that_city_only(
    sim: SimulatorServer, fault: dict[str, Any], status: int, header: str | None
) -> None:
    berlin, oslo = _place(sim, "Berlin"), _place(sim, "Oslo")
    set_fault = requests.post(f"{sim.url}/_faults", json={"city": "Berlin", **fault},
                              headers={"X-Fault-Token": TOKEN}, timeout=5)  # fmt: skip
    assert set_fault.status_code == 200
    failed = _archive(sim, berlin, "2024-01-01", "2024-01-01")
    assert failed.status_code == status and failed.json()["error"] is True
    assert failed.headers.get("Retry-After") == header
    assert _archive(sim, oslo, "2024-01-01", "2024-01-01").status_code == 200


def test_bad_requests_get_open_meteos_error_shape(sim: SimulatorServer) -> None:
    place = _place(sim, "Berlin")
    backwards = _archive(sim, place, "2024-01-02", "2024-01-01")
    assert backwards.status_code == 400 and backwards.json() == {
        "error": True, "reason": "End-date must be larger or equals than start-date"
    }  # fmt: skip
    off_the_globe = _get(sim, "/v1/archive", latitude=91, longitude=0, start_date="2024-01-01",
                         end_date="2024-01-01", hourly="temperature_2m")  # fmt: skip
    assert off_the_globe.status_code == 400 and off_the_globe.json()["error"] is True
    assert "Latitude must be in range of -90 to 90" in off_the_globe.json()["reason"]
    unknown = _get(sim, "/v1/forecast", latitude=place.latitude, longitude=place.longitude, current="sunshine")
    assert unknown.status_code == 400 and "sunshine" in unknown.json()["reason"]


def test_a_malformed_answer_and_a_broken_column_are_named() -> None:
    place = Place(1, "Berlin", "DE", 52.52, 13.41)
    with pytest.raises(InvalidObservation, match=r"no hourly\.time array"):
        hourly_observations({"hourly": {}}, place, NOW)
    with pytest.raises(InvalidObservation, match=r"hourly\.rain is not an array as long as hourly\.time"):
        hourly_observations({"hourly": {"time": ["2024-01-01T00:00"], "rain": []}}, place, NOW)


HOSTILE = st.one_of(
    st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=20), st.booleans(), st.lists(st.integers(), max_size=2),
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(values=st.lists(HOSTILE, min_size=3, max_size=3), temperatures=st.lists(HOSTILE, min_size=3, max_size=3))
def test_one_hostile_hour_never_costs_the_good_ones(values: list[Any], temperatures: list[Any]) -> None:
    """Any value in any column: each hour is kept as a valid observation or rejected with a reason, and a clean
    hour appended to the same answer always survives."""
    place = Place(1, "Berlin", "DE", 52.52, 13.41)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    times = [(start + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M") for h in range(4)]
    payload = {
        "hourly": {
            "time": times,
            "temperature_2m": [*temperatures, 1.5],
            "rain": [*values, 0.4],
            "relative_humidity_2m": [*values, 80],
        }
    }
    rows = hourly_observations(payload, place, start)
    assert len(rows.observations) + len(rows.rejected) == 4
    assert rows.observations[-1].timestamp == "2024-01-01T03:00:00Z" and rows.observations[-1].rain_1h == 0.4
    for obs in rows.observations:
        assert math.isfinite(obs.temperature)


# ---- the client: the OpenWeather client's rules for retries and per-city errors -----------------------------------


def _client(sim: SimulatorServer, **options: Any) -> OpenMeteoClient:
    return OpenMeteoClient(sim.url, timeout=2.0, backoff_base=0.01, backoff_max=0.05, clock=lambda: NOW, **options)


def _fault(sim: SimulatorServer, city: str, **fault: Any) -> None:
    answer = requests.post(f"{sim.url}/_faults", json={"city": city, **fault}, headers={"X-Fault-Token": TOKEN},
                           timeout=5)  # fmt: skip
    assert answer.status_code == 200


def test_the_client_geocodes_once_and_reads_current_and_history(sim: SimulatorServer) -> None:
    with _client(sim) as client:
        current = client.fetch("Oslo,NO")
        history = client.history("Oslo,NO", date(2024, 1, 1), date(2024, 1, 2))
        client.history("Oslo,NO", date(2024, 1, 3), date(2024, 1, 3))
    assert (current.source, current.city, current.country) == (SOURCE, "Oslo", "NO")
    assert len(history.observations) == 48 and history.rejected == []
    assert sim.hits("Oslo") == 4  # one geocoding, then coordinates from the cache: 1 + current + 2 archives


def test_a_429_with_retry_after_and_a_500_are_retried_then_the_history_arrives(sim: SimulatorServer) -> None:
    with _client(sim) as client:
        client.place("Berlin,DE")  # resolved before the faults, which count requests
        _fault(sim, "Berlin", status=429, retry_after=0.05, times=2)
        limited = client.history("Berlin,DE", date(2024, 1, 1), date(2024, 1, 1))
        _fault(sim, "Berlin", status=500, times=1)
        failed_once = client.history("Berlin,DE", date(2024, 1, 2), date(2024, 1, 2))
    assert len(limited.observations) == len(failed_once.observations) == 24
    assert sim.hits("Berlin") == 1 + 3 + 2  # geocoding; 429, 429, answer; 500, answer


def test_the_documented_per_city_errors(sim: SimulatorServer) -> None:
    with _client(sim, max_attempts=2) as client:
        with pytest.raises(CityNotFound) as unknown:
            client.history("Atlantis,XX", date(2024, 1, 1), date(2024, 1, 1))
        client.place("Paris,FR")
        _fault(sim, "Paris", malformed_json=True)
        with pytest.raises(InvalidResponse, match="malformed JSON"):
            client.history("Paris,FR", date(2024, 1, 1), date(2024, 1, 1))
        _fault(sim, "Berlin", status=503)
        with pytest.raises(ServerError) as down:
            client.history("Berlin,DE", date(2024, 1, 1), date(2024, 1, 1))
        report = client.fetch_all(["Oslo,NO", "Atlantis,XX"])  # one city's failure never stops the others
    assert "Atlantis,XX" in str(unknown.value)
    assert down.value.attempts == 2
    assert [c.ok for c in report.results] == [True, False] and report.results[1].error_type == "CityNotFound"


def test_weather_source_open_meteo_gives_the_ingestion_an_open_meteo_client(sim: SimulatorServer) -> None:
    """WEATHER_SOURCE=open-meteo: the Dagster resource's client reads Open-Meteo (here the simulator's), so a polling
    round publishes Open-Meteo readings; without it OpenWeather (or its simulator) stays the default."""
    from weather_platform.resources import build_resources
    from weather_platform.settings import Settings

    chosen = Settings(_env_file=None, weather_source="open-meteo", open_meteo_forecast_url=sim.url,  # type: ignore[call-arg]
                      open_meteo_archive_url=sim.url, open_meteo_geocoding_url=sim.url,
                      weather_cities="Oslo,NO;Paris,FR")  # fmt: skip
    resource = build_resources(chosen)["weather_api"]
    with resource.client() as client:
        report = client.fetch_all(resource.city_list)
    assert [(o.source, o.city) for o in report.observations] == [(SOURCE, "Oslo"), (SOURCE, "Paris")]
    default = build_resources(Settings(_env_file=None))["weather_api"]  # type: ignore[call-arg]
    assert default.source == "openweather" and default.base_url.endswith("/data/2.5")


def test_history_is_fetched_in_chunks_of_one_city_and_month() -> None:
    from weather_platform.history import Chunk, month_chunks

    chunks = month_chunks(["Oslo,NO", "Paris,FR"], date(2024, 1, 30), date(2024, 3, 2))
    assert chunks[:3] == [
        Chunk("Oslo,NO", date(2024, 1, 30), date(2024, 1, 31)),
        Chunk("Oslo,NO", date(2024, 2, 1), date(2024, 2, 29)),  # a leap February, whole
        Chunk("Oslo,NO", date(2024, 3, 1), date(2024, 3, 2)),
    ]
    assert len(chunks) == 6 and {c.city for c in chunks[3:]} == {"Paris,FR"}
    days = sum((c.end - c.start).days + 1 for c in chunks)
    assert days == 2 * ((date(2024, 3, 2) - date(2024, 1, 30)).days + 1)  # every day once per city


def test_a_failing_city_is_reported_and_the_others_history_is_published(sim: SimulatorServer) -> None:
    """publish_history against the simulator's archive, with a recording stand-in for the producer: the real
    producer and broker are exercised by e2e/test_history.py."""
    from weather_platform.history import month_chunks, publish_history

    class Recorder:
        def __init__(self) -> None:
            self.sent: list[bytes] = []

        def send_all(self, topic: str, messages: Iterable[Message], timeout: float) -> list[Delivery]:
            deliveries = []
            for key, value in messages:
                assert isinstance(value, bytes)
                self.sent.append(value)
                deliveries.append(Delivery(key.decode(), 0, len(self.sent) - 1, None))
            return deliveries

        def close(self, timeout: float = 10.0) -> None:
            return None

    producer = Recorder()
    with _client(sim, max_attempts=1) as client:
        chunks = month_chunks(["Oslo,NO", "Atlantis,XX", "Paris,FR"], date(2024, 1, 1), date(2024, 1, 2))
        report = publish_history(client, producer, "t", chunks)
    assert report.published == len(producer.sent) == 2 * 48
    assert list(report.failed) == ["Atlantis,XX"] and "Atlantis,XX" in report.failed["Atlantis,XX"]


def test_a_city_given_with_coordinates_skips_the_geocoder(sim: SimulatorServer) -> None:
    assert OSLO is not None
    entry = f"Oslo,NO@{OSLO.lat},{OSLO.lon}"
    # No geocoder at all: a lookup would fail as unreachable; the coordinates are the answer.
    with OpenMeteoClient(sim.url, sim.url, "http://127.0.0.1:9", max_attempts=1) as client:
        place = client.place(entry)
        assert place == Place(None, "Oslo", "NO", OSLO.lat, OSLO.lon)
        rows = client.history(entry, date(2023, 12, 1), date(2023, 12, 1))
    assert len(rows.observations) == 24 and rows.rejected == []
    first = rows.observations[0]
    assert (first.city, first.country, first.latitude, first.city_id) == ("Oslo", "NO", OSLO.lat, None)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("Lima,PE@-12.05", "after '@' give latitude,longitude"),
        ("Lima,PE@south,west", "after '@' give latitude,longitude"),
        ("Lima,PE@-95,-77", "latitude must be in -90…90"),
        ("Lima,PE@-12,200", "longitude in -180…180"),
    ],
)
def test_bad_coordinates_in_weather_cities_are_named(entry: str, message: str) -> None:
    with pytest.raises(InvalidSetting, match=message):
        parse_cities(f"London,GB;{entry}")


def test_coordinates_leave_the_city_name_for_coverage_and_openweather() -> None:
    assert parse_cities("Lima,PE@-12.05,-77.04; Oslo,NO") == ["Lima,PE@-12.05,-77.04", "Oslo,NO"]
    assert split_city("Lima,PE@-12.05,-77.04") == ("Lima,PE", (-12.05, -77.04))
    assert split_city("Oslo,NO") == ("Oslo,NO", None)
    assert find_city("Oslo,NO@1,2") == OSLO  # the simulator's OpenWeather endpoint: asked by name


def test_any_point_on_earth_has_an_archive_as_open_meteo_has(sim: SimulatorServer) -> None:
    mid_atlantic = Place(None, "Buoy", "", 30.0, -40.0)
    first = _archive(sim, mid_atlantic, "2024-01-01", "2024-01-01")
    again = _archive(sim, mid_atlantic, "2024-01-01", "2024-01-01")
    assert first.status_code == 200 and first.json()["hourly"] == again.json()["hourly"]  # the same model, stable
    rows = hourly_observations(first.json(), mid_atlantic, NOW)
    assert len(rows.observations) == 24 and rows.rejected == []
    elsewhere = _archive(sim, Place(None, "Buoy", "", -30.0, 40.0), "2024-01-01", "2024-01-01")
    assert elsewhere.json()["hourly"]["temperature_2m"] != first.json()["hourly"]["temperature_2m"]
