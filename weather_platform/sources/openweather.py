"""OpenWeather current-weather client: bounded retries, one clear error per city, and a key that never leaks.

OpenWeather takes the key only as the `appid` query parameter, so every message built from a URL is redacted,
and urllib3's DEBUG log of request lines is redacted before any handler sees it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import NoReturn, Self, TypeVar

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from weather_platform.settings import split_city
from weather_platform.sources.observation import InvalidObservation, Observation, from_openweather

log = logging.getLogger(__name__)
T = TypeVar("T")

_APPID = re.compile(r"(appid=)[^&\s'\"]+", re.IGNORECASE)


def redact(text: str) -> str:
    """The text with the value of every `appid=` parameter replaced by `***`."""
    return _APPID.sub(r"\1***", text)


class _RedactingFilter(logging.Filter):
    """urllib3 logs full request URLs (key included) at DEBUG level."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "appid=" in message.lower():
            record.msg, record.args = redact(message), None
        return True


for _name in ("urllib3.connectionpool", "urllib3.util.retry"):
    logging.getLogger(_name).addFilter(_RedactingFilter())


class WeatherApiError(Exception):
    """Base of every client failure; messages never contain the API key."""

    attempts = 1

    def __str__(self) -> str:
        message = super().__str__()
        return message if self.attempts <= 1 else f"{message} (gave up after {self.attempts} attempts)"


class InvalidApiKey(WeatherApiError):
    """HTTP 401: the key is wrong for every city, so retrying cannot help."""


class CityNotFound(WeatherApiError):
    """HTTP 404: the API does not know this `q` value."""

    def __init__(self, city: str) -> None:
        super().__init__(f"city not found: {city}")
        self.city = city


class InvalidResponse(WeatherApiError, InvalidObservation):
    """An HTTP 200 whose body is not a usable observation (malformed JSON, missing or mistyped fields)."""

    def __init__(self, city: str, reason: str) -> None:
        super().__init__(f"invalid response for {city}: {reason}")
        self.reason = reason


class TransientApiError(WeatherApiError):
    """A failure that may pass: retried with backoff, or after `retry_after` seconds when the server asks."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ApiTimeout(TransientApiError):
    """No answer within the client's timeout."""


class ApiUnreachable(TransientApiError):
    """Connection refused, reset or unresolvable host."""


class ServerError(TransientApiError):
    """HTTP 5xx."""


class RateLimited(TransientApiError):
    """HTTP 429."""


class RetryAfterTooLong(WeatherApiError):
    """The server asks to wait longer than a round may: the city is skipped this round instead of stalling it."""


@dataclass(frozen=True)
class ApiStatus:
    """Preflight answer: can the API be reached, and does it accept the key (None: could not tell)."""

    reachable: bool
    key_valid: bool | None
    detail: str

    @property
    def ok(self) -> bool:
        return self.reachable and self.key_valid is True


@dataclass(frozen=True)
class CityResult:
    """What happened to one city in a polling round."""

    city: str
    observation: Observation | None
    error: str | None
    error_type: str | None
    attempts: int
    latency_seconds: float

    @property
    def ok(self) -> bool:
        return self.observation is not None


@dataclass(frozen=True)
class FetchReport:
    """One polling round, city by city, in request order."""

    results: tuple[CityResult, ...]

    @property
    def observations(self) -> list[Observation]:
        return [r.observation for r in self.results if r.observation is not None]

    @property
    def failures(self) -> list[CityResult]:
        return [r for r in self.results if not r.ok]


class OpenWeatherClient:
    """Current weather from OpenWeather or any compatible server (such as the simulator), in metric units."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        timeout: float = 10.0,
        max_attempts: int = 3,
        *,
        backoff_base: float = 0.5,
        backoff_max: float = 10.0,
        max_retry_after: float = 60.0,
        source: str = "openweather",
        probe_city: str = "London,GB",
        session: requests.Session | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.max_retry_after = max_retry_after
        self.source = source
        self.probe_city = probe_city
        self._backoff = wait_exponential_jitter(multiplier=backoff_base, max=backoff_max, jitter=backoff_base)
        self._session = session or requests.Session()
        self._clock = clock or (lambda: datetime.now(UTC))

    def fetch(self, city: str) -> Observation:
        """The current observation for one OpenWeather `q` value (`Paris,FR`), retrying transient failures."""
        return self._fetch(city)[0]

    def fetch_all(self, cities: Iterable[str]) -> FetchReport:
        """Fetch every city in turn; a failing city is reported, never allowed to stop the others."""
        results = []
        for city in cities:
            started = time.perf_counter()
            try:
                observation, attempts = self._fetch(city)
                result = CityResult(city, observation, None, None, attempts, time.perf_counter() - started)
            except WeatherApiError as exc:
                log.error("weather for %s failed: %s", city, exc)
                result = CityResult(
                    city, None, str(exc), type(exc).__name__, exc.attempts, time.perf_counter() - started
                )
            results.append(result)
        return FetchReport(tuple(results))

    def check_api(self) -> ApiStatus:
        """One request for `probe_city`, not retried: does the API answer, and does it accept the key?"""
        try:
            self._request(self.probe_city)
        except InvalidApiKey as exc:
            return ApiStatus(reachable=True, key_valid=False, detail=str(exc))
        except (ApiTimeout, ApiUnreachable) as exc:
            return ApiStatus(reachable=False, key_valid=None, detail=str(exc))
        except (
            CityNotFound,
            InvalidResponse,
        ) as exc:  # the key was accepted, the probe answer was not useful
            return ApiStatus(reachable=True, key_valid=True, detail=str(exc))
        except WeatherApiError as exc:
            return ApiStatus(reachable=True, key_valid=None, detail=str(exc))
        return ApiStatus(reachable=True, key_valid=True, detail="ok")

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _fetch(self, city: str) -> tuple[Observation, int]:
        return self._with_retries(self._request, city)

    def _with_retries(self, call: Callable[..., T], city: str, *args: object) -> tuple[T, int]:
        """`call(city, *args)`, retried on transient failures (429, 5xx, timeouts, unreachable); (result, attempts)."""
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(TransientApiError),
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            result = retrying(call, city, *args)
        except WeatherApiError as exc:
            exc.attempts = retrying.statistics["attempt_number"]
            raise
        return result, retrying.statistics["attempt_number"]

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, TransientApiError) and error.retry_after is not None:
            return error.retry_after  # never above max_retry_after: longer waits raise RetryAfterTooLong
        return float(self._backoff(state))

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "weather API attempt %d/%d for %s failed: %s; retrying in %.2f s",
            state.attempt_number,
            self.max_attempts,
            state.args[0],
            error,
            state.upcoming_sleep,
        )

    def _request(self, city: str) -> Observation:
        """One HTTP exchange, mapped to an observation or to the matching WeatherApiError."""
        response = self._get(city)
        if response.status_code == 200:
            return self._parse(city, response)
        self._raise_for(response, city)

    def _raise_for(self, response: requests.Response, city: str) -> NoReturn:
        """The WeatherApiError an unsuccessful answer about `city` stands for (transient ones are retried)."""
        status = response.status_code
        if status == 401:
            raise InvalidApiKey("the weather API rejected the API key (HTTP 401)")
        if status == 404:
            raise CityNotFound(city)
        retry_after = _retry_after(response)
        if status in (429, 503) and retry_after is not None and retry_after > self.max_retry_after:
            raise RetryAfterTooLong(
                f"HTTP {status} for {city}: the server asks to retry after {retry_after:.0f} s, longer than the "
                f"{self.max_retry_after:.0f} s a round waits; {city} is skipped this round"
            )
        if status == 429:
            raise RateLimited(f"rate limited (HTTP 429) for {city}", retry_after)
        if status >= 500:
            raise ServerError(f"server error (HTTP {status}) for {city}", retry_after)
        raise WeatherApiError(f"unexpected HTTP {status} for {city}: {redact(response.text[:200])}")

    def _get(self, city: str) -> requests.Response:
        params = {"q": split_city(city)[0], "units": "metric"}  # OpenWeather is asked by name
        if self._api_key:
            params["appid"] = self._api_key
        try:
            return self._session.get(f"{self.base_url}/weather", params=params, timeout=self.timeout)
        except requests.Timeout:
            failure: WeatherApiError = ApiTimeout(f"no answer within {self.timeout:g} s for {city}")
        except requests.RequestException as exc:
            failure = ApiUnreachable(f"cannot reach {self.base_url} for {city}: {redact(str(exc))}")
        # Raised outside the except blocks so the requests exception (the URL is in its text) is not chained.
        raise failure

    def _parse(self, city: str, response: requests.Response) -> Observation:
        try:
            payload = response.json()
        except ValueError as exc:
            raise InvalidResponse(city, f"malformed JSON: {exc}") from None
        try:
            return from_openweather(payload, source=self.source, ingested_at=self._clock())
        except InvalidObservation as exc:
            raise InvalidResponse(city, exc.reason) from None


def _retry_after(response: requests.Response) -> float | None:
    """The `Retry-After` header in seconds (the HTTP-date form is ignored: backoff applies instead)."""
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None
