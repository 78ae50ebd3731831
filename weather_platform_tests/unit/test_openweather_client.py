"""The OpenWeather client against our own simulator, one injected fault at a time."""

from __future__ import annotations

import logging
import socket
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from weather_platform.sources.observation import InvalidObservation
from weather_platform.sources.openweather import (
    ApiTimeout,
    CityNotFound,
    InvalidApiKey,
    InvalidResponse,
    OpenWeatherClient,
    ServerError,
    WeatherApiError,
    redact,
)
from weather_platform.sources.simulator import Fault, SimulatorServer

SECRET = "s3cret-0123456789abcdef0123456789"
REJECTED = "rejected-fedcba9876543210fedcba98"
NOW = datetime(2024, 7, 1, 14, 5, tzinfo=UTC)


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(port=0, clock=lambda: NOW, invalid_api_key=REJECTED) as server:
        yield server


def client_for(
    sim: SimulatorServer, api_key: str = SECRET, timeout: float = 2.0, max_retry_after: float = 60.0
) -> OpenWeatherClient:
    return OpenWeatherClient(
        sim.base_url, api_key, timeout, backoff_base=0.01, max_retry_after=max_retry_after, source="simulator"
    )


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_fetch_returns_a_contract_observation(sim: SimulatorServer) -> None:
    obs = client_for(sim).fetch("Paris,FR")

    assert (obs.city, obs.country, obs.source, obs.timestamp) == ("Paris", "FR", "simulator", "2024-07-01T14:00:00Z")
    assert sim.hits("Paris") == 1


def test_two_server_errors_then_success_takes_three_attempts(sim: SimulatorServer) -> None:
    sim.faults.set(Fault(status=500, times=2), city="Paris,FR")

    [result] = client_for(sim).fetch_all(["Paris,FR"]).results

    assert result.ok and result.observation is not None and result.observation.city == "Paris"
    assert (result.attempts, result.error) == (3, None)
    assert sim.hits("Paris") == 3


@pytest.mark.parametrize("status", [500, 503])
def test_persistent_server_errors_give_up_after_three_attempts(sim: SimulatorServer, status: int) -> None:
    sim.faults.set(Fault(status=status), city="Paris")

    with pytest.raises(ServerError) as caught:
        client_for(sim).fetch("Paris,FR")

    assert caught.value.attempts == 3
    assert str(caught.value) == f"server error (HTTP {status}) for Paris,FR (gave up after 3 attempts)"
    assert sim.hits("Paris") == 3


def test_rate_limit_waits_for_retry_after(sim: SimulatorServer) -> None:
    sim.faults.set(Fault(status=429, retry_after=1, times=1), city="Paris")

    started = time.monotonic()
    [result] = client_for(sim).fetch_all(["Paris,FR"]).results

    assert result.ok and result.attempts == 2
    assert time.monotonic() - started >= 0.95  # backoff alone would have waited ~0.01 s
    assert result.latency_seconds >= 0.95


def test_a_retry_after_longer_than_a_round_skips_the_city_at_once_and_the_round_goes_on(sim: SimulatorServer) -> None:
    sim.faults.set(Fault(status=429, retry_after=3600), city="Paris")

    started = time.monotonic()
    paris, london = client_for(sim).fetch_all(["Paris,FR", "London,GB"]).results

    assert time.monotonic() - started < 5  # neither 3600 s nor a silent 60 s cap
    assert paris.error_type == "RetryAfterTooLong" and paris.attempts == 1
    assert paris.error is not None and "retry after 3600 s, longer than the 60 s a round waits" in paris.error
    assert london.ok


def test_slow_answer_within_the_timeout_succeeds(sim: SimulatorServer) -> None:
    sim.faults.set(Fault(delay_seconds=0.3), city="Paris")

    [result] = client_for(sim, timeout=2.0).fetch_all(["Paris,FR"]).results

    assert result.ok and result.attempts == 1 and result.latency_seconds >= 0.3


def test_timeouts_are_retried_then_reported_clearly(sim: SimulatorServer) -> None:
    sim.faults.set(Fault(delay_seconds=1.0), city="Paris")

    started = time.monotonic()
    with pytest.raises(ApiTimeout) as caught:
        client_for(sim, timeout=0.2).fetch("Paris,FR")

    assert str(caught.value) == "no answer within 0.2 s for Paris,FR (gave up after 3 attempts)"
    assert sim.hits("Paris") == 3
    assert time.monotonic() - started < 2.0


def test_a_timeout_followed_by_an_answer_recovers(sim: SimulatorServer) -> None:
    sim.faults.set(Fault(delay_seconds=1.0, times=1), city="Paris")

    [result] = client_for(sim, timeout=0.2).fetch_all(["Paris,FR"]).results

    assert result.ok and result.attempts == 2


def test_rejected_key_fails_once_without_retrying(sim: SimulatorServer) -> None:
    with pytest.raises(InvalidApiKey, match=r"^the weather API rejected the API key \(HTTP 401\)$") as caught:
        client_for(sim, api_key=REJECTED).fetch("Paris,FR")

    assert caught.value.attempts == 1
    assert sim.hits("Paris") == 1


def test_one_failing_city_never_stops_the_others(sim: SimulatorServer) -> None:
    sim.faults.set(Fault(status=500), city="London")

    report = client_for(sim).fetch_all(["Paris,FR", "Atlantis,XX", "London,GB", "Tokyo,JP"])

    assert [r.city for r in report.results] == ["Paris,FR", "Atlantis,XX", "London,GB", "Tokyo,JP"]
    assert [o.city for o in report.observations] == ["Paris", "Tokyo"]
    atlantis, london = report.failures
    assert (atlantis.error_type, atlantis.error, atlantis.attempts) == (
        "CityNotFound",
        "city not found: Atlantis,XX",
        1,
    )
    assert (london.error_type, london.attempts) == ("ServerError", 3)
    assert sim.hits("Atlantis") == 1


def test_unknown_city_raises_city_not_found(sim: SimulatorServer) -> None:
    with pytest.raises(CityNotFound) as caught:
        client_for(sim).fetch("Atlantis,XX")
    assert caught.value.city == "Atlantis,XX"


def test_malformed_json_is_an_invalid_observation(sim: SimulatorServer) -> None:
    sim.faults.set(Fault(malformed_json=True), city="Paris")

    with pytest.raises(InvalidResponse) as caught:
        client_for(sim).fetch("Paris,FR")

    assert isinstance(caught.value, InvalidObservation) and isinstance(caught.value, WeatherApiError)
    assert caught.value.reason.startswith("malformed JSON: ")
    assert str(caught.value).startswith("invalid response for Paris,FR: malformed JSON: ")
    assert sim.hits("Paris") == 1


def test_missing_required_field_is_an_invalid_observation(sim: SimulatorServer) -> None:
    sim.faults.set(Fault(missing_fields=("main.temp",)), city="Paris")

    with pytest.raises(InvalidResponse) as caught:
        client_for(sim).fetch("Paris,FR")

    assert caught.value.reason == "missing required field: temperature"


def test_absurd_values_pass_through_as_data(sim: SimulatorServer) -> None:
    sim.faults.set(Fault(absurd_values=True), city="Paris")

    obs = client_for(sim).fetch("Paris,FR")

    assert (obs.temperature, obs.humidity, obs.pressure) == (999.0, 250, -5)


def test_unreachable_api_is_retried_then_reported() -> None:
    client = OpenWeatherClient(f"http://127.0.0.1:{unused_port()}/data/2.5", SECRET, timeout=1, backoff_base=0.01)

    report = client.fetch_all(["Paris,FR"])

    [failure] = report.failures
    assert (failure.error_type, failure.attempts) == ("ApiUnreachable", 3)
    assert failure.error is not None and failure.error.startswith("cannot reach http://127.0.0.1:")


def test_check_api_reports_reachability_and_key_validity(sim: SimulatorServer) -> None:
    good = client_for(sim).check_api()
    bad_key = client_for(sim, api_key=REJECTED).check_api()
    sim.faults.set(Fault(status=503))
    failing = client_for(sim).check_api()
    down = OpenWeatherClient(f"http://127.0.0.1:{unused_port()}/data/2.5", SECRET, timeout=1).check_api()

    assert (good.ok, good.reachable, good.key_valid, good.detail) == (True, True, True, "ok")
    assert (bad_key.ok, bad_key.reachable, bad_key.key_valid) == (False, True, False)
    assert (failing.ok, failing.reachable, failing.key_valid) == (False, True, None)
    assert (down.ok, down.reachable, down.key_valid) == (False, False, None)
    assert sim.hits("London") == 3  # the probe is never retried


def test_redact_hides_the_key_in_urls() -> None:
    url = f"http://h/data/2.5/weather?q=Paris&appid={SECRET}&units=metric"
    assert redact(url) == "http://h/data/2.5/weather?q=Paris&appid=***&units=metric"


def everything_printed_about(error: BaseException) -> str:
    return str(error) + repr(error) + "".join(traceback.format_exception(error))


def test_the_api_key_never_appears_in_errors_or_logs(sim: SimulatorServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    closed = f"http://127.0.0.1:{unused_port()}/data/2.5"
    scenarios: list[tuple[Fault | None, Callable[[], OpenWeatherClient]]] = [
        (Fault(status=500), lambda: client_for(sim)),
        (Fault(status=429, retry_after=0), lambda: client_for(sim)),
        (Fault(delay_seconds=0.5), lambda: client_for(sim, timeout=0.1)),
        (Fault(malformed_json=True), lambda: client_for(sim)),
        (Fault(missing_fields=("name",)), lambda: client_for(sim)),
        (None, lambda: client_for(sim, api_key=REJECTED)),
        (None, lambda: OpenWeatherClient(closed, SECRET, timeout=1, backoff_base=0.01)),
    ]
    errors: list[BaseException] = []
    for fault, make_client in scenarios:
        sim.faults.clear()
        if fault is not None:
            sim.faults.set(fault)
        with pytest.raises(WeatherApiError) as caught:
            make_client().fetch("Paris,FR")
        errors.append(caught.value)
    sim.faults.clear()
    client_for(sim).fetch_all(["Paris,FR", "Atlantis,XX"])
    client_for(sim, api_key=REJECTED).check_api()

    assert {type(e).__name__ for e in errors} == {
        "ServerError",
        "RateLimited",
        "ApiTimeout",
        "InvalidResponse",
        "InvalidApiKey",
        "ApiUnreachable",
    }
    logged = "\n".join(caplog.text.splitlines() + [r.getMessage() for r in caplog.records])
    assert "appid=***" in logged  # urllib3's request lines were captured, redacted
    for key in (SECRET, REJECTED):
        assert key not in logged
        for error in errors:
            assert key not in everything_printed_about(error)
