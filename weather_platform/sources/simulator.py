"""An OpenWeather-compatible current-weather server: the platform runs offline, and tests can inject faults.

Values are a deterministic function of (city, observation time bucket): a climate by latitude and elevation, a
seasonal and a diurnal cycle, and smooth day-to-day "weather systems" drawn from seeded generators. Serves
`GET /data/2.5/weather?q=City,CC&units=metric&appid=...` in OpenWeather's JSON shape; Open-Meteo's geocoder
(`/v1/search`), current conditions (`/v1/forecast?current=…`) and hourly archive for any past range
(`/v1/archive?hourly=…&start_date=…&end_date=…`) in Open-Meteo's shapes, from the same model; `GET /health`, and
`GET|POST|DELETE /_faults` to read, set and clear injected faults, for the bearer of the fault token only
(header `X-Fault-Token`; the endpoint is off when the simulator has no token).
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from weather_platform.settings import InvalidSetting
from weather_platform.sources.open_meteo import UNITS as OPEN_METEO_UNITS
from weather_platform.sources.openweather import redact

log = logging.getLogger(__name__)

DEFAULT_PORT = 8089
FAULT_AUTH_HEADER = "X-Fault-Token"
INVALID_API_KEY = "invalid"
BUCKET_SECONDS = 600
WEATHER_PATH = "/data/2.5/weather"
# What `absurd_values` writes into a payload: parseable, but outside any physical range.
ABSURD_VALUES: dict[str, Any] = {
    "main.temp": 999.0,
    "main.humidity": 250,
    "main.pressure": -5,
    "wind.speed": -12.0,
}

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class City:
    name: str
    country: str
    lat: float
    lon: float
    timezone: int  # seconds east of UTC (standard time)
    id: int  # OpenWeather city id
    elevation: int  # metres: colder, and lower ground-level pressure
    humidity: int  # typical relative humidity, %


CITIES: tuple[City, ...] = (
    City("London", "GB", 51.5085, -0.1257, 0, 2643743, 11, 78),
    City("Paris", "FR", 48.8534, 2.3488, 3600, 2988507, 35, 75),
    City("Berlin", "DE", 52.5244, 13.4105, 3600, 2950159, 34, 74),
    City("Madrid", "ES", 40.4165, -3.7026, 3600, 3117735, 667, 57),
    City("Rome", "IT", 41.8919, 12.5113, 3600, 3169070, 20, 70),
    City("Amsterdam", "NL", 52.374, 4.8897, 3600, 2759794, 0, 82),
    City("Oslo", "NO", 59.9127, 10.7461, 3600, 3143244, 23, 73),
    City("Moscow", "RU", 55.7522, 37.6156, 10800, 524901, 156, 76),
    City("Reykjavik", "IS", 64.1355, -21.8954, 0, 3413829, 15, 78),
    City("Cairo", "EG", 30.0626, 31.2497, 7200, 360630, 23, 55),
    City("Nairobi", "KE", -1.2833, 36.8167, 10800, 184745, 1795, 68),
    City("Cape Town", "ZA", -33.9258, 18.4232, 7200, 3369157, 7, 72),
    City("Dubai", "AE", 25.0772, 55.3093, 14400, 292223, 5, 55),
    City("Mumbai", "IN", 19.0144, 72.8479, 19800, 1275339, 14, 75),
    City("Singapore", "SG", 1.2897, 103.8501, 28800, 1880252, 15, 84),
    City("Beijing", "CN", 39.9075, 116.3972, 28800, 1816670, 44, 55),
    City("Tokyo", "JP", 35.6895, 139.6917, 32400, 1850147, 40, 68),
    City("Sydney", "AU", -33.8679, 151.2073, 36000, 2147714, 58, 68),
    City("New York", "US", 40.7143, -74.006, -18000, 5128581, 10, 65),
    City("Toronto", "CA", 43.7001, -79.4163, -18000, 6167865, 76, 72),
    City("Los Angeles", "US", 34.0522, -118.2437, -28800, 5368361, 89, 65),
    City("Mexico City", "MX", 19.4285, -99.1277, -21600, 3530597, 2240, 60),
    City("Rio de Janeiro", "BR", -22.9028, -43.2075, -10800, 3451190, 5, 78),
    City("Buenos Aires", "AR", -34.6132, -58.3772, -10800, 3435910, 25, 72),
    City("Anchorage", "US", 61.2181, -149.9003, -32400, 5879400, 31, 70),
)


def find_city(query: str) -> City | None:
    """The city an OpenWeather `q` value (`City`, `City,CC` or `City,State,CC`; coordinates after `@` ignored) names,
    if the table has it."""
    parts = [part.strip().casefold() for part in query.partition("@")[0].split(",")]
    country = parts[-1] if len(parts) > 1 else None
    for city in CITIES:
        if city.name.casefold() == parts[0] and country in (None, city.country.casefold()):
            return city
    return None


@dataclass(frozen=True)
class HourlyPrecipitation:
    """What falls in one clock hour: the simulator's own hourly accumulation, liquid equivalent in mm."""

    kind: str | None  # "Rain", "Snow" or None when dry
    amount_mm: float


def closed_hour(moment: int) -> int:
    """The start of the clock hour in which the hour before `moment` ends (epoch seconds): a reading at 10:15 or
    at 11:00 reports the accumulation of 10:00-11:00, the hour gold files it under (transforms/aggregates.py)."""
    return (moment - 1) // 3600 * 3600


def hourly_precipitation(city: City, hour_start: int) -> HourlyPrecipitation:
    """The accumulation of the clock hour starting at `hour_start` (epoch seconds, a whole hour).

    Precipitation is modelled per clock hour, from that hour's smooth cloud cover and temperature (no per-reading
    jitter), and every reading whose last hour ends within that clock hour (`closed_hour`) reports it as
    `rain.1h`/`snow.1h`: the reading nearest the end of the hour then reports exactly the hour's accumulation,
    which is what gold's hourly totals are held to.
    """
    middle = hour_start // 3600 * 3600 + 1800
    clouds = _cloud_cover(city, middle)
    if clouds <= 80:
        return HourlyPrecipitation(None, 0.0)
    amount = round((clouds - 80) / 20 * _rng(city.id, "precipitation", middle).uniform(0.5, 4), 2)
    if amount <= 0:
        return HourlyPrecipitation(None, 0.0)
    return HourlyPrecipitation("Rain" if _mean_temperature(city, middle, clouds) > 0 else "Snow", amount)


def _cloud_cover(city: City, dt: int) -> float:
    return _smooth(city, "clouds", dt, lambda r: r.gauss(city.humidity - 15, 30))


def _mean_temperature(city: City, dt: int, clouds: float) -> float:
    """Temperature at `dt` before a reading's own noise: climate, season, weather systems and the diurnal cycle."""
    day_of_year = datetime.fromtimestamp(dt, tz=UTC).timetuple().tm_yday
    # Climate from latitude and altitude, a seasonal cycle (coldest late January in the north), weather
    # systems that vary more away from the tropics.
    season = -math.copysign(1, city.lat) * math.cos(2 * math.pi * (day_of_year - 20) / 365.25)
    daily_mean = 27 - 0.006 * city.lat**2 - 0.0045 * city.elevation + (0.5 + 0.16 * abs(city.lat)) * season
    daily_mean += _smooth(city, "temp", dt, lambda r: r.gauss(0, 0.8 + 0.04 * abs(city.lat)))
    return daily_mean + _diurnal(city, dt, clouds)


def _diurnal(city: City, dt: int, clouds: float) -> float:
    """Diurnal cycle peaking mid-afternoon (solar time), wider in dry climates, damped by clouds."""
    solar_hour = (dt / 3600 + city.lon / 15) % 24
    diurnal_range = (8 - 0.06 * city.humidity) * (1 - 0.6 * clouds / 100)
    return diurnal_range * math.cos(2 * math.pi * (solar_hour - 15) / 24)


def require_known(queries: list[str]) -> None:
    """InvalidSetting naming the cities the simulator does not know, and the ones it does."""
    unknown = ", ".join(repr(query) for query in queries if find_city(query) is None)
    if unknown:
        known = "; ".join(f"{c.name},{c.country}" for c in CITIES)
        raise InvalidSetting(f"WEATHER_CITIES: the simulator knows no {unknown}; it knows {known}")


def current_weather(city: City, when: datetime, bucket_seconds: int = BUCKET_SECONDS) -> dict[str, Any]:
    """OpenWeather's current-weather JSON (metric) for `city` at `when`, identical within one time bucket."""
    dt = int(when.timestamp()) // bucket_seconds * bucket_seconds
    jitter = _rng(city.id, "bucket", dt)
    falling = hourly_precipitation(city, closed_hour(dt))
    precipitation = falling.amount_mm

    cloud_cover = _cloud_cover(city, dt) + jitter.gauss(0, 8)
    clouds = round(_clamp(max(cloud_cover, 85) if precipitation else cloud_cover, 0, 100))
    diurnal = _diurnal(city, dt, clouds)
    temp = round(_mean_temperature(city, dt, clouds) + jitter.gauss(0, 0.3), 2)

    kind = falling.kind or ("Clouds" if clouds > 10 else "Clear")
    humidity = city.humidity + 0.25 * (clouds - 50) - 2.0 * diurnal + jitter.gauss(0, 3)
    humidity = round(_clamp(max(humidity, 85) if precipitation else humidity, 5, 100))
    pressure_anomaly = _smooth(city, "pressure", dt, lambda r: r.gauss(0, 0.6))
    pressure = round(_clamp(1013 + 12 * pressure_anomaly - 0.1 * (clouds - 50), 985, 1040))
    wind_speed = round(max(0.0, 2.5 + 0.03 * clouds + 2 * abs(pressure_anomaly) + jitter.gauss(0, 1)), 2)
    wind_deg = round(_smooth(city, "wind", dt, lambda r: r.uniform(0, 360)) + jitter.gauss(0, 20)) % 360
    wind: dict[str, float] = {"speed": wind_speed, "deg": wind_deg}
    if wind_speed >= 4:  # OpenWeather omits gusts in calm weather
        wind["gust"] = round(wind_speed * jitter.uniform(1.3, 1.8), 2)
    # Steadman's apparent temperature (shade), close to what OpenWeather reports as feels_like.
    vapour = humidity / 100 * 6.105 * math.exp(17.27 * temp / (237.7 + temp))
    feels_like = temp + 0.33 * vapour - 0.70 * wind_speed - 4.0
    visibility = round(max(500, 10000 - (1500 if kind == "Rain" else 4000) * precipitation))
    sunrise, sunset = _sun_times(city, dt)
    condition_id, description, icon = _condition(kind, precipitation, clouds)
    return {
        "coord": {"lon": city.lon, "lat": city.lat},
        "weather": [
            {
                "id": condition_id,
                "main": kind,
                "description": description,
                "icon": icon + ("d" if sunrise <= dt < sunset else "n"),
            }
        ],
        "base": "stations",
        "main": {
            "temp": temp,
            "feels_like": round(feels_like, 2),
            "temp_min": round(temp - jitter.uniform(0, 1.2), 2),
            "temp_max": round(temp + jitter.uniform(0, 1.2), 2),
            "pressure": pressure,
            "humidity": humidity,
            "sea_level": pressure,
            "grnd_level": round(pressure * math.exp(-city.elevation / 8400)),
        },
        "visibility": visibility,
        "wind": wind,
        **({kind.lower(): {"1h": precipitation}} if precipitation else {}),
        "clouds": {"all": clouds},
        "dt": dt,
        "sys": {"country": city.country, "sunrise": sunrise, "sunset": sunset},
        "timezone": city.timezone,
        "id": city.id,
        "name": city.name,
        "cod": 200,
    }


# ---- Open-Meteo's shapes, from the same model ---------------------------------------------------------------------

OPEN_METEO_PATHS = ("/v1/forecast", "/v1/archive", "/v1/search")
_OPEN_METEO_UNITS = {name: unit for name, unit in OPEN_METEO_UNITS.items() if name != "time"}
_WMO_FOR: dict[str, int] = {"Clear": 0, "Clouds": 3}
COUNTRY_NAMES = {
    "GB": "United Kingdom", "FR": "France", "DE": "Germany", "ES": "Spain", "IT": "Italy", "NL": "Netherlands",
    "NO": "Norway", "RU": "Russia", "IS": "Iceland", "EG": "Egypt", "KE": "Kenya", "ZA": "South Africa",
    "AE": "United Arab Emirates", "IN": "India", "SG": "Singapore", "CN": "China", "JP": "Japan", "AU": "Australia",
    "US": "United States", "CA": "Canada", "MX": "Mexico", "BR": "Brazil", "AR": "Argentina",
}  # fmt: skip


def open_meteo_values(city: City, moment: int, precipitation_hour: int) -> dict[str, float | int]:
    """Open-Meteo's variables for `city` at `moment` (epoch seconds), in metric units with wind in m/s.

    The instantaneous values are the OpenWeather model's at that moment; the precipitation is the accumulation of
    the clock hour starting at `precipitation_hour` (the archive: the hour before the timestamp, as Open-Meteo
    sums it), rain in mm and snowfall in cm of snow (7 cm per 10 mm of water).
    """
    payload = current_weather(city, datetime.fromtimestamp(moment, UTC))
    main, wind = payload["main"], payload["wind"]
    falling = hourly_precipitation(city, precipitation_hour)
    rain = falling.amount_mm if falling.kind == "Rain" else 0.0
    snow_mm = falling.amount_mm if falling.kind == "Snow" else 0.0
    if falling.kind == "Rain":
        code = 61 if rain < 2.5 else 63 if rain < 7.6 else 65
    elif falling.kind == "Snow":
        code = 71 if snow_mm < 1 else 73
    else:
        code = 0 if payload["clouds"]["all"] <= 10 else 1 if payload["clouds"]["all"] <= 50 else 3
    return {
        "temperature_2m": main["temp"],
        "relative_humidity_2m": main["humidity"],
        "apparent_temperature": main["feels_like"],
        "precipitation": round(rain + snow_mm, 2),
        "rain": round(rain, 2),
        "snowfall": round(snow_mm * 0.7, 2),
        "weather_code": code,
        "cloud_cover": payload["clouds"]["all"],
        "pressure_msl": float(main["pressure"]),
        "surface_pressure": float(main["grnd_level"]),
        "wind_speed_10m": wind["speed"],
        "wind_direction_10m": wind["deg"],
        "wind_gusts_10m": wind.get("gust", wind["speed"]),
    }


def _open_meteo_city(query: dict[str, str]) -> City | None:
    """The place at the requested coordinates: the simulator's city within 0.1 degree, else (Open-Meteo answers for
    any point on Earth) a place of the same model at exactly those coordinates; None for coordinates off the globe."""
    try:
        lat, lon = float(query["latitude"]), float(query["longitude"])
    except (KeyError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    known = next((c for c in CITIES if abs(c.lat - lat) <= 0.1 and abs(c.lon - lon) <= 0.1), None)
    if known:
        return known
    # A stable id from the coordinates (to 0.0001 degree), the standard time of its 15-degree zone, sea level.
    place_id = 90_000_000 + round((lat + 90) * 10_000) * 3_600_001 + round((lon + 180) * 10_000)
    return City(f"{lat:.4f},{lon:.4f}", "", lat, lon, round(lon / 15) * 3600, place_id, 0, 70)


def _minute(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M")


def _open_meteo_head(city: City) -> dict[str, Any]:
    return {
        "latitude": city.lat,
        "longitude": city.lon,
        "generationtime_ms": 0.05,
        "utc_offset_seconds": 0,
        "timezone": "GMT",
        "timezone_abbreviation": "GMT",
        "elevation": float(city.elevation),
    }


def _rng(*seed: object) -> random.Random:
    """A generator seeded from its parts (str seeds go through SHA-512: stable across processes)."""
    return random.Random(":".join(map(str, seed)))  # noqa: S311 - simulated weather, not cryptography


def _smooth(city: City, name: str, dt: int, draw: Callable[[random.Random], float]) -> float:
    """A value drawn once per UTC day and interpolated linearly in between, so weather changes gradually."""
    day, seconds = divmod(dt, 86400)
    today, tomorrow = (draw(_rng(city.id, name, d)) for d in (day, day + 1))
    return today + (tomorrow - today) * seconds / 86400


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def _sun_times(city: City, dt: int) -> tuple[int, int]:
    """Approximate sunrise and sunset (epoch seconds) of the local day containing `dt`."""
    local_day_start = (dt + city.timezone) // 86400 * 86400 - city.timezone
    day_of_year = datetime.fromtimestamp(local_day_start + 43200, tz=UTC).timetuple().tm_yday
    declination = math.radians(-23.44) * math.cos(2 * math.pi * (day_of_year + 10) / 365)
    cos_hour_angle = _clamp(-math.tan(math.radians(city.lat)) * math.tan(declination), -1, 1)  # clamp: polar day/night
    half_day = math.degrees(math.acos(cos_hour_angle)) / 15 * 3600
    solar_noon = (local_day_start + city.timezone) // 86400 * 86400 + (12 - city.lon / 15) * 3600
    return round(solar_noon - half_day), round(solar_noon + half_day)


def _condition(kind: str, precipitation: float, clouds: int) -> tuple[int, str, str]:
    """OpenWeather's condition id, description and icon (without the day/night letter)."""
    if kind == "Rain":
        if precipitation < 2.5:
            return 500, "light rain", "10"
        return (501, "moderate rain", "10") if precipitation < 7.6 else (502, "heavy intensity rain", "10")
    if kind == "Snow":
        return (600, "light snow", "13") if precipitation < 1 else (601, "snow", "13")
    if kind == "Clear":
        return 800, "clear sky", "01"
    if clouds <= 25:
        return 801, "few clouds", "02"
    if clouds <= 50:
        return 802, "scattered clouds", "03"
    return (803, "broken clouds", "04") if clouds <= 84 else (804, "overcast clouds", "04")


@dataclass(frozen=True)
class Fault:
    """What to do wrong on a weather request; `times`: how many requests it affects (None: until cleared).

    A 429 without `retry_after` sends `Retry-After: 1`, as rate limiters usually do.
    """

    status: int | None = None
    retry_after: float | None = None
    delay_seconds: float = 0.0
    malformed_json: bool = False
    missing_fields: tuple[str, ...] = ()
    absurd_values: bool = False
    times: int | None = None

    def __post_init__(self) -> None:
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP error code (400..599), got {self.status}")
        if self.delay_seconds < 0 or (self.retry_after is not None and self.retry_after < 0):
            raise ValueError("delay_seconds and retry_after must not be negative")
        if self.times is not None and self.times < 1:
            raise ValueError(f"times must be at least 1, got {self.times}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        """A fault from the JSON body of `POST /_faults` (the `city` key is the caller's business)."""
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        missing = data.get("missing_fields", [])
        if not isinstance(missing, list) or not all(isinstance(path, str) for path in missing):
            raise ValueError("missing_fields must be a list of dotted paths")
        return cls(**{**data, "missing_fields": tuple(missing)})


class FaultPlan:
    """Thread-safe faults per city (matched on the city name of `q`, case-insensitively) or for all (`*`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, tuple[Fault, int | None]] = {}

    def set(self, fault: Fault, city: str | None = None) -> None:
        with self._lock:
            self._faults[_fault_key(city)] = (fault, fault.times)

    def clear(self, city: str | None = None) -> None:
        with self._lock:
            if city is None:
                self._faults.clear()
            else:
                self._faults.pop(_fault_key(city), None)

    def take(self, query: str) -> Fault | None:
        """The fault for this request, if any, counting it against the fault's `times`."""
        with self._lock:
            for key in (_fault_key(query), "*"):
                if key in self._faults:
                    fault, remaining = self._faults[key]
                    if remaining == 1:
                        del self._faults[key]
                    elif remaining is not None:
                        self._faults[key] = (fault, remaining - 1)
                    return fault
        return None

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {key: {**asdict(fault), "remaining": left} for key, (fault, left) in self._faults.items()}


def _fault_key(city: str | None) -> str:
    return "*" if city in (None, "*") else str(city).split(",")[0].strip().casefold()


class _Server(ThreadingHTTPServer):
    def __init__(
        self,
        address: tuple[str, int],
        clock: Clock,
        invalid_api_key: str,
        bucket_seconds: int,
        fault_token: str | None,
    ) -> None:
        super().__init__(address, _Handler)
        self.fault_token = fault_token
        self.clock = clock
        self.invalid_api_key = invalid_api_key
        self.bucket_seconds = bucket_seconds
        self.faults = FaultPlan()
        self.hits: Counter[str] = Counter()
        self.hits_lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/health":
            self._send(200, {"status": "ok"})
        elif url.path == "/_faults":
            if self._may_change_faults():
                self._send(200, self.server.faults.snapshot())
        elif url.path == WEATHER_PATH:
            self._weather({key: values[0] for key, values in parse_qs(url.query).items()})
        elif url.path in OPEN_METEO_PATHS:
            self._open_meteo(url.path, {key: values[0] for key, values in parse_qs(url.query).items()})
        else:
            self._send(404, {"cod": "404", "message": "Internal error"})

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/_faults":
            self._send(404, {"cod": "404", "message": "Internal error"})
            return
        if not self._may_change_faults():
            return
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
            city = body.pop("city", None)
            self.server.faults.set(Fault.from_dict(body), city)
        except (ValueError, TypeError) as exc:
            self._send(400, {"error": str(exc)})
            return
        self._send(200, self.server.faults.snapshot())

    def do_DELETE(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/_faults":
            self._send(404, {"cod": "404", "message": "Internal error"})
            return
        if not self._may_change_faults():
            return
        self.server.faults.clear(parse_qs(url.query).get("city", [None])[0])
        self._send(200, self.server.faults.snapshot())

    def _may_change_faults(self) -> bool:
        """Fault injection answers only to the bearer of the simulator's fault token (else 403, said why)."""
        expected = self.server.fault_token
        if expected is None:
            self._send(403, {"error": "fault injection is off: start the simulator with SIMULATOR_FAULT_TOKEN set"})
            return False
        if not hmac.compare_digest(self.headers.get(FAULT_AUTH_HEADER, ""), expected):
            self._send(403, {"error": f"fault injection needs the {FAULT_AUTH_HEADER} header (SIMULATOR_FAULT_TOKEN)"})
            return False
        return True

    def _fault_for(self, place: str, error_body: Callable[[int], dict[str, Any]]) -> Fault | None:
        """Count the request, apply the place's injected delay, and answer an injected error status (with
        Retry-After: 1 s for a 429 unless given) in the API's own error shape; None when that answer was sent."""
        with self.server.hits_lock:
            self.server.hits[_fault_key(place)] += 1
        fault = self.server.faults.take(place) or Fault()
        time.sleep(fault.delay_seconds)
        if fault.status is None:
            return fault
        retry_after = fault.retry_after if fault.retry_after is not None else (1 if fault.status == 429 else None)
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        self._send(fault.status, error_body(fault.status), headers)
        return None

    def _weather(self, query: dict[str, str]) -> None:
        q = query.get("q", "")
        fault = self._fault_for(q, lambda status: {"cod": status, "message": "simulated fault"})
        if fault is None:
            return
        if query.get("appid") == self.server.invalid_api_key:
            message = "Invalid API key. Please see https://openweathermap.org/faq#error401 for more info."
            self._send(401, {"cod": 401, "message": message})
            return
        if not q:
            self._send(400, {"cod": "400", "message": "Nothing to geocode"})
            return
        city = find_city(q)
        if city is None:
            self._send(404, {"cod": "404", "message": "city not found"})
            return
        payload = _in_units(current_weather(city, self.server.clock(), self.server.bucket_seconds), query.get("units"))
        for path in fault.missing_fields:
            *parents, leaf = path.split(".")
            node: Any = payload
            for part in parents:
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict):
                node.pop(leaf, None)
        if fault.absurd_values:
            for path, value in ABSURD_VALUES.items():
                section, key = path.split(".")
                if isinstance(payload.get(section), dict):
                    payload[section][key] = value
        body = json.dumps(payload).encode()
        self._send(200, body[: len(body) // 2] if fault.malformed_json else body)

    def _open_meteo(self, path: str, query: dict[str, str]) -> None:
        """Open-Meteo's geocoder, forecast (`current=`) and archive (`hourly=`) in its JSON shapes and errors."""
        city = None if path == "/v1/search" else _open_meteo_city(query)
        place = query.get("name", "") if path == "/v1/search" else (city.name if city else "")
        fault = self._fault_for(place, lambda _: {"error": True, "reason": "simulated fault"})
        if fault is None:
            return
        try:
            body = self._open_meteo_body(path, query, city)
        except ValueError as exc:
            self._send(400, {"error": True, "reason": str(exc)})
            return
        data = json.dumps(body).encode()
        self._send(200, data[: len(data) // 2] if fault.malformed_json else data)

    def _open_meteo_body(self, path: str, query: dict[str, str], city: City | None) -> dict[str, Any]:
        if path == "/v1/search":
            name = query.get("name", "").strip().casefold()
            found = [c for c in CITIES if c.name.casefold() == name][: int(query.get("count", "10"))]
            results = [
                {"id": c.id, "name": c.name, "latitude": c.lat, "longitude": c.lon, "elevation": float(c.elevation),
                 "feature_code": "PPLC", "country_code": c.country, "country": COUNTRY_NAMES.get(c.country, c.country),
                 "timezone": "GMT"}
                for c in found
            ]  # fmt: skip
            return {"results": results, "generationtime_ms": 0.1} if results else {"generationtime_ms": 0.1}
        if city is None:
            raise ValueError("Latitude must be in range of -90 to 90°. Longitude must be in range of -180 to 180°.")
        block = "current" if path == "/v1/forecast" else "hourly"
        variables = [v for v in query.get(block, "").split(",") if v]
        unknown = [v for v in variables if v not in _OPEN_METEO_UNITS]
        if unknown or not variables:
            raise ValueError(f"Cannot initialize WeatherVariable from invalid String value {(unknown or [''])[0]}")
        to_kmh = query.get("wind_speed_unit", "kmh") != "ms"

        def selected(values: dict[str, float | int]) -> dict[str, float | int]:
            return {v: round(values[v] * 3.6, 2) if to_kmh and v.startswith("wind_") and "direction" not in v
                    else values[v] for v in variables}  # fmt: skip

        units = {v: ("km/h" if to_kmh and u == "m/s" else u) for v, u in _OPEN_METEO_UNITS.items() if v in variables}
        now = int(self.server.clock().timestamp())
        if block == "current":
            moment = now // 900 * 900
            values = selected(open_meteo_values(city, moment, closed_hour(moment)))
            return {
                **_open_meteo_head(city),
                "current_units": {"time": "iso8601", "interval": "seconds", **units},
                "current": {"time": _minute(moment), "interval": 900, **values},
            }
        try:
            start = datetime.strptime(query["start_date"], "%Y-%m-%d").replace(tzinfo=UTC)
            end = datetime.strptime(query["end_date"], "%Y-%m-%d").replace(tzinfo=UTC)
        except (KeyError, ValueError):
            raise ValueError("Parameter 'start_date' and 'end_date' must be dates (yyyy-mm-dd)") from None
        if end < start:
            raise ValueError("End-date must be larger or equals than start-date")
        hours = range(int(start.timestamp()), int(end.timestamp()) + 86_400, 3600)
        columns: dict[str, list[Any]] = {"time": [_minute(h) for h in hours], **{v: [] for v in variables}}
        for hour in hours:
            observed = selected(open_meteo_values(city, hour, hour - 3600)) if hour <= now else None
            for v in variables:  # not yet observed: null, as the archive answers for the latest days
                columns[v].append(observed[v] if observed else None)
        return {**_open_meteo_head(city), "hourly_units": {"time": "iso8601", **units}, "hourly": columns}

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (timeout tests)
            pass

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), redact(format % args))


def _in_units(payload: dict[str, Any], units: str | None) -> dict[str, Any]:
    """OpenWeather's unit systems: metric (°C, m/s), imperial (°F, mph) and the default, standard (K, m/s)."""
    if units == "metric":
        return payload
    to_temp = (lambda c: c * 9 / 5 + 32) if units == "imperial" else (lambda c: c + 273.15)
    for key in ("temp", "feels_like", "temp_min", "temp_max"):
        payload["main"][key] = round(to_temp(payload["main"][key]), 2)
    if units == "imperial":
        for key in ("speed", "gust"):
            if key in payload["wind"]:
                payload["wind"][key] = round(payload["wind"][key] * 2.236936, 2)
    return payload


class SimulatorServer:
    """The simulator on its own socket; `with SimulatorServer() as sim:` serves in a thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,  # any free port: read it back from `url`
        *,
        clock: Clock | None = None,
        invalid_api_key: str = INVALID_API_KEY,
        bucket_seconds: int = BUCKET_SECONDS,
        fault_token: str | None = None,
    ) -> None:
        self._server = _Server(
            (host, port), clock or (lambda: datetime.now(UTC)), invalid_api_key, bucket_seconds, fault_token
        )
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        return self.url + "/data/2.5"

    @property
    def faults(self) -> FaultPlan:
        return self._server.faults

    def hits(self, city: str) -> int:
        """How many weather requests named this city (faulted ones included)."""
        with self._server.hits_lock:
            return self._server.hits[_fault_key(city)]

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self._server.serve_forever(poll_interval)

    def start(self) -> SimulatorServer:
        """Serve from a daemon thread; a short poll interval keeps `stop()` quick in tests."""
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), name="weather-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def run_simulator(
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    *,
    clock: Clock | None = None,
    invalid_api_key: str = INVALID_API_KEY,
    bucket_seconds: int = BUCKET_SECONDS,
    fault_token: str | None = None,
) -> None:
    """Serve until interrupted (the `weather-platform simulator` command)."""
    server = SimulatorServer(
        host, port, clock=clock, invalid_api_key=invalid_api_key, bucket_seconds=bucket_seconds, fault_token=fault_token
    )
    log.info("weather simulator serving %s", server.base_url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
