"""Open-Meteo's JSON shapes mapped to the observation contract (docs/DESIGN.md §4.1).

Open-Meteo serves current conditions (`/v1/forecast?current=…`), an hourly archive back to 1940
(`/v1/archive?hourly=…&start_date=…&end_date=…`, columnar: `hourly.time[]`, `hourly.temperature_2m[]`, …) and a
geocoder (`/v1/search?name=…`), without a key. Requested in metric units with wind in m/s and times in GMT, so
the only conversions are snowfall (centimetres of snow → millimetres of water: 7 cm is 10 mm, Open-Meteo's own
rule) and the WMO weather code → OpenWeather's `weather_main`/`weather_description` words. Precipitation at hour T
is the sum over the hour before T, as `rain_1h` is: the same accumulation, counted once by silver.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import requests

from weather_platform.settings import split_city
from weather_platform.sources.observation import (
    SCHEMA_VERSION,
    InvalidObservation,
    Observation,
    isoformat_utc,
    parse_observation,
)
from weather_platform.sources.openweather import (
    ApiTimeout,
    ApiUnreachable,
    CityNotFound,
    InvalidResponse,
    OpenWeatherClient,
    WeatherApiError,
)

SOURCE = "open-meteo"
# The variables asked for, in both the `current=` block and the archive's `hourly=` columns.
VARIABLES: tuple[str, ...] = (
    "temperature_2m",
    "relative_humidity_2m",
    "apparent_temperature",
    "precipitation",
    "rain",
    "snowfall",
    "weather_code",
    "cloud_cover",
    "pressure_msl",
    "surface_pressure",
    "wind_speed_10m",
    "wind_direction_10m",
    "wind_gusts_10m",
)
UNITS: dict[str, str] = {
    "time": "iso8601",
    "temperature_2m": "°C",
    "relative_humidity_2m": "%",
    "apparent_temperature": "°C",
    "precipitation": "mm",
    "rain": "mm",
    "snowfall": "cm",
    "weather_code": "wmo code",
    "cloud_cover": "%",
    "pressure_msl": "hPa",
    "surface_pressure": "hPa",
    "wind_speed_10m": "m/s",
    "wind_direction_10m": "°",
    "wind_gusts_10m": "m/s",
}
SNOW_CM_TO_WATER_MM = 10 / 7  # "7 cm snow = 10 mm precipitation water equivalent" (Open-Meteo's documentation)

# WMO weather interpretation codes → (OpenWeather main, description).
WMO_CODES: dict[int, tuple[str, str]] = {
    0: ("Clear", "clear sky"),
    1: ("Clouds", "mainly clear"),
    2: ("Clouds", "partly cloudy"),
    3: ("Clouds", "overcast"),
    45: ("Fog", "fog"),
    48: ("Fog", "depositing rime fog"),
    51: ("Drizzle", "light drizzle"),
    53: ("Drizzle", "moderate drizzle"),
    55: ("Drizzle", "dense drizzle"),
    56: ("Drizzle", "light freezing drizzle"),
    57: ("Drizzle", "dense freezing drizzle"),
    61: ("Rain", "slight rain"),
    63: ("Rain", "moderate rain"),
    65: ("Rain", "heavy rain"),
    66: ("Rain", "light freezing rain"),
    67: ("Rain", "heavy freezing rain"),
    71: ("Snow", "slight snow fall"),
    73: ("Snow", "moderate snow fall"),
    75: ("Snow", "heavy snow fall"),
    77: ("Snow", "snow grains"),
    80: ("Rain", "slight rain showers"),
    81: ("Rain", "moderate rain showers"),
    82: ("Rain", "violent rain showers"),
    85: ("Snow", "slight snow showers"),
    86: ("Snow", "heavy snow showers"),
    95: ("Thunderstorm", "thunderstorm"),
    96: ("Thunderstorm", "thunderstorm with slight hail"),
    99: ("Thunderstorm", "thunderstorm with heavy hail"),
}


@dataclass(frozen=True)
class Place:
    """A city as Open-Meteo's geocoder resolves it: what an observation needs besides the weather."""

    id: int | None  # the geocoder's; None for a place given by its coordinates
    name: str
    country_code: str
    latitude: float
    longitude: float
    utc_offset_seconds: int = 0


def parse_place(payload: Any, query: str) -> Place:
    """The first geocoding result, or InvalidObservation naming the query when there is none or it is unusable."""
    results = payload.get("results") if isinstance(payload, dict) else None
    if not results:
        raise InvalidObservation(f"the geocoder knows no {query!r}")
    first = results[0]
    try:
        return Place(
            id=int(first["id"]),
            name=str(first["name"]),
            country_code=str(first["country_code"]),
            latitude=float(first["latitude"]),
            longitude=float(first["longitude"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidObservation(f"geocoding answer for {query!r} lacks {exc}") from None


def observation(values: dict[str, Any], time: Any, place: Place, ingested_at: datetime) -> Observation:
    """One hour (or the current block) of Open-Meteo variables as an observation; InvalidObservation when the
    values break the contract (a missing temperature, a non-number, a time that is not an ISO minute)."""
    try:
        moment = datetime.strptime(time, "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        raise InvalidObservation(f"time {time!r} is not an ISO-8601 minute (YYYY-MM-DDTHH:MM)") from None

    def number(name: str) -> float | None:
        value = values.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidObservation(f"{name} is not a finite number: {value!r}")
        return float(value)

    def whole(name: str) -> int | None:
        value = number(name)
        return None if value is None else round(value)

    code = whole("weather_code")
    main, description = WMO_CODES.get(code, (None, None)) if code is not None else (None, None)
    rain, snow_cm = number("rain"), number("snowfall")
    record = {
        "schema_version": SCHEMA_VERSION,
        "source": SOURCE,
        "city": place.name,
        "country": place.country_code,
        "city_id": place.id,
        "latitude": place.latitude,
        "longitude": place.longitude,
        "timestamp": isoformat_utc(moment),
        "ingested_at": isoformat_utc(ingested_at),
        "temperature": number("temperature_2m"),
        "feels_like": number("apparent_temperature"),
        "pressure": whole("pressure_msl"),
        "sea_level": whole("pressure_msl"),
        "grnd_level": whole("surface_pressure"),
        "humidity": whole("relative_humidity_2m"),
        "wind_speed": number("wind_speed_10m"),
        "wind_deg": whole("wind_direction_10m"),
        "wind_gust": number("wind_gusts_10m"),
        "clouds": whole("cloud_cover"),
        "rain_1h": rain if rain else None,  # 0 mm: a dry hour, as OpenWeather leaves the field out
        "snow_1h": round(snow_cm * SNOW_CM_TO_WATER_MM, 2) if snow_cm else None,
        "weather_main": main,
        "weather_description": description,
        "timezone_offset": place.utc_offset_seconds,
    }
    # Through the consumer's own validation: the same rules as every record that reaches Kafka.
    present = {name: value for name, value in record.items() if value is not None}
    return parse_observation(json.dumps(present, ensure_ascii=False, allow_nan=False).encode())


@dataclass(frozen=True)
class HourlyRows:
    """An archive answer as observations, with each unusable hour and why (the other hours still count)."""

    observations: list[Observation]
    rejected: list[tuple[str, str]]  # (time, reason)


def hourly_observations(payload: Any, place: Place, ingested_at: datetime) -> HourlyRows:
    """The archive's columnar `hourly` block as one observation per hour."""
    hourly = payload.get("hourly") if isinstance(payload, dict) else None
    if not isinstance(hourly, dict) or not isinstance(hourly.get("time"), list):
        raise InvalidObservation("the archive answer has no hourly.time array")
    times: list[Any] = hourly["time"]
    columns = {name: hourly.get(name) for name in VARIABLES}
    for name, column in columns.items():
        if column is not None and (not isinstance(column, list) or len(column) != len(times)):
            raise InvalidObservation(f"hourly.{name} is not an array as long as hourly.time")
    rows, rejected = [], []
    for index, time in enumerate(times):
        values = {name: column[index] for name, column in columns.items() if column is not None}
        try:
            rows.append(observation(values, time, place, ingested_at))
        except InvalidObservation as exc:
            rejected.append((str(time), exc.reason))
    return HourlyRows(rows, rejected)


def current_observation(payload: Any, place: Place, ingested_at: datetime) -> Observation:
    """The forecast endpoint's `current` block as an observation."""
    current = payload.get("current") if isinstance(payload, dict) else None
    if not isinstance(current, dict):
        raise InvalidObservation("the forecast answer has no current block")
    return observation(current, current.get("time"), place, ingested_at)


class OpenMeteoClient(OpenWeatherClient):
    """Open-Meteo (or the simulator speaking it): current conditions and the hourly archive of a city, which is
    resolved to coordinates once by the geocoder and cached. The same rules as the OpenWeather client: 429, 5xx
    and timeouts are retried with backoff (honouring Retry-After), a city the geocoder does not know is one clear
    error for that city, and an answer that breaks the contract is InvalidResponse, never a crash."""

    def __init__(
        self,
        forecast_url: str,
        archive_url: str | None = None,
        geocoding_url: str | None = None,
        timeout: float = 10.0,
        max_attempts: int = 3,
        **options: Any,
    ) -> None:
        super().__init__(forecast_url, None, timeout, max_attempts, source=SOURCE, **options)
        self.archive_url = (archive_url or forecast_url).rstrip("/")
        self.geocoding_url = (geocoding_url or forecast_url).rstrip("/")
        self._places: dict[str, Place] = {}

    def place(self, city: str) -> Place:
        """The coordinates of a `City,CC` entry, from the geocoder once, then from the cache; a `City,CC@lat,lon`
        entry is its own answer."""
        if city not in self._places:
            name, coordinates = split_city(city)
            if coordinates is None:
                self._places[city] = self._with_retries(self._geocode, city)[0]
            else:
                country = name.rpartition(",")[2].strip().upper() if "," in name else ""
                self._places[city] = Place(None, name.partition(",")[0].strip(), country, *coordinates)
        return self._places[city]

    def history(self, city: str, start: date, end: date) -> HourlyRows:
        """Every hour of `start` … `end` (inclusive, UTC) the archive has for `city`."""
        return self._with_retries(self._archive, city, start, end)[0]

    def _request(self, city: str) -> Observation:
        place = self.place(city)
        response = self._call(self.base_url, "forecast", city, {**self._at(place), "current": ",".join(VARIABLES)})
        try:
            return current_observation(self._json(response, city), place, self._clock())
        except InvalidObservation as exc:
            raise InvalidResponse(city, exc.reason) from None

    def _geocode(self, city: str) -> Place:
        name, _, country = (part.strip() for part in city.partition(","))
        response = self._call(self.geocoding_url, "search", city, {"name": name, "count": 10, "format": "json"})
        payload = self._json(response, city)
        results = payload.get("results") if isinstance(payload, dict) else None
        matching = [
            r for r in results or [] if not country or str(r.get("country_code", "")).upper() == country.upper()
        ]
        try:
            return parse_place({"results": matching}, city)
        except InvalidObservation:
            raise CityNotFound(city) from None

    def _archive(self, city: str, start: date, end: date) -> HourlyRows:
        place = self.place(city)
        params = {**self._at(place), "start_date": start.isoformat(), "end_date": end.isoformat(),
                  "hourly": ",".join(VARIABLES)}  # fmt: skip
        response = self._call(self.archive_url, "archive", city, params)
        try:
            return hourly_observations(self._json(response, city), place, self._clock())
        except InvalidObservation as exc:
            raise InvalidResponse(city, exc.reason) from None

    @staticmethod
    def _at(place: Place) -> dict[str, Any]:
        return {"latitude": place.latitude, "longitude": place.longitude, "wind_speed_unit": "ms", "timezone": "GMT"}

    def _call(self, base: str, endpoint: str, city: str, params: dict[str, Any]) -> requests.Response:
        try:
            response = self._session.get(f"{base}/v1/{endpoint}", params=params, timeout=self.timeout)
        except requests.Timeout:
            failure: WeatherApiError = ApiTimeout(f"no answer within {self.timeout:g} s for {city}")
        except requests.RequestException as exc:
            failure = ApiUnreachable(f"cannot reach {base} for {city}: {str(exc)[:200]}")
        else:
            if response.status_code == 200:
                return response
            if response.status_code == 400:  # Open-Meteo's refusal names the reason: not worth a retry
                raise InvalidResponse(city, f"Open-Meteo refused the request: {response.text[:200]}")
            self._raise_for(response, city)
        raise failure

    @staticmethod
    def _json(response: requests.Response, city: str) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise InvalidResponse(city, f"malformed JSON: {exc}") from None
