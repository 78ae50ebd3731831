"""Real station hours through the whole history path: a TMY3 file shipped in pvlib (Greensboro, NC: dry-bulb, relative
humidity, pressure, wind, liquid precipitation, hour by hour) is served in Open-Meteo's archive shape by a server of
this test, backfilled through Kafka, bronze, silver and gold on the real stack, and gold's daily aggregates are held
to a computation straight from the raw file with pandas."""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
from psycopg import sql
from rich.console import Console

from weather_platform.history import run_backfill
from weather_platform.resources import WeatherApiResource
from weather_platform_tests.e2e.conftest import Pipeline

pytestmark = pytest.mark.e2e
# Each calendar month of a TMY3 file comes from one real year (March: 1990); its days are stamped 2025 here.
YEAR = 2025
SPAN = (date(YEAR, 3, 1), date(YEAR, 3, 5))
COMPARED = [SPAN[0] + timedelta(days=n) for n in range(4)]  # the 5th's last hour closes on the 6th: not in the span


def _tmy3() -> tuple[pd.DataFrame, float, float]:
    """The file's hours with UTC timestamps, and the station's latitude and longitude (its first line)."""
    spec = importlib.util.find_spec("pvlib")  # located, not imported: only the data file is used
    assert spec is not None and spec.submodule_search_locations
    path = Path(spec.submodule_search_locations[0]) / "data" / "723170TYA.CSV"
    header = path.read_text().splitlines()[0].split(",")
    utc_offset, latitude, longitude = float(header[3]), float(header[4]), float(header[5])
    raw = pd.read_csv(path, skiprows=1)
    local_day = pd.to_datetime(raw["Date (MM/DD/YYYY)"], format="%m/%d/%Y")
    # TMY3 hours are local standard time, hour ending 01:00 … 24:00: the value at 24:00 is the next day's 00:00.
    stamped = pd.to_datetime(pd.DataFrame({"year": YEAR, "month": local_day.dt.month, "day": local_day.dt.day}))
    ending = pd.to_timedelta(raw["Time (HH:MM)"].str.slice(0, 2).astype(int), unit="h")
    raw["utc"] = stamped + ending - pd.to_timedelta(utc_offset, unit="h")
    return raw, latitude, longitude


HOURS, LATITUDE, LONGITUDE = _tmy3()
CITY = f"Greensboro,US@{LATITUDE},{LONGITUDE}"
COLUMNS = {  # Open-Meteo's variable ← the TMY3 column (TMY3 has station pressure only: served as both pressures)
    "temperature_2m": "Dry-bulb (C)",
    "relative_humidity_2m": "RHum (%)",
    "pressure_msl": "Pressure (mbar)",
    "surface_pressure": "Pressure (mbar)",
    "wind_speed_10m": "Wspd (m/s)",
    "wind_direction_10m": "Wdir (degrees)",
    "precipitation": "Lprecip depth (mm)",
    "rain": "Lprecip depth (mm)",
}


class _Archive(BaseHTTPRequestHandler):
    """`/v1/archive` as Open-Meteo answers it (GMT, columnar `hourly`), from the TMY3 hours; null where the file has
    no hour."""

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        if url.path != "/v1/archive" or query.get("timezone") != "GMT" or query.get("wind_speed_unit") != "ms":
            self._send(400, {"error": True, "reason": f"unexpected request {self.path}"})
            return
        first = datetime.fromisoformat(query["start_date"])
        hours = pd.date_range(first, datetime.fromisoformat(query["end_date"]) + timedelta(hours=23), freq="h")
        rows = HOURS.set_index("utc").reindex(hours)
        hourly: dict[str, list[Any]] = {"time": [h.strftime("%Y-%m-%dT%H:%M") for h in hours]}
        for variable in query["hourly"].split(","):
            column = COLUMNS.get(variable)
            values = rows[column] if column else pd.Series([None] * len(hours))
            hourly[variable] = [None if pd.isna(v) else float(v) for v in values]
        head = {"latitude": LATITUDE, "longitude": LONGITUDE, "utc_offset_seconds": 0, "timezone": "GMT"}
        self._send(200, {**head, "hourly_units": {"time": "iso8601"}, "hourly": hourly})

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@pytest.fixture
def archive() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Archive)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _expected(day: date) -> dict[str, float]:
    """The day's aggregates from the raw file alone: readings stamped in [D 00:00, D+1 00:00), precipitation of the
    hours ending in (D 00:00, D+1 00:00] (the hours ending 01:00 … 24:00 UTC)."""
    start = pd.Timestamp(day)
    end = start + pd.Timedelta(days=1)
    readings = HOURS[(HOURS.utc >= start) & (HOURS.utc < end)]
    closing = HOURS[(HOURS.utc > start) & (HOURS.utc <= end)]
    return {
        "avg_temperature": readings["Dry-bulb (C)"].mean(),
        "min_temperature": readings["Dry-bulb (C)"].min(),
        "max_temperature": readings["Dry-bulb (C)"].max(),
        "avg_humidity": readings["RHum (%)"].mean(),
        "avg_pressure": readings["Pressure (mbar)"].mean(),
        "avg_wind_speed": readings["Wspd (m/s)"].mean(),
        "max_wind_speed": readings["Wspd (m/s)"].max(),
        "total_rain_mm": closing["Lprecip depth (mm)"].sum(),
        "observation_count": len(readings),
    }


def test_gold_daily_aggregates_equal_the_raw_station_file(pipeline: Pipeline, archive: str) -> None:
    p = pipeline
    # The city comes with its coordinates: the geocoder (nothing listens there) is never asked.
    p.resources["weather_api"] = WeatherApiResource(
        base_url=archive, cities=CITY, source="open-meteo", archive_url=archive, geocoding_url="http://127.0.0.1:9"
    )
    p.set_time(datetime(YEAR, 3, 20, 12, tzinfo=UTC))

    report, result = run_backfill(p.instance, p.resources, SPAN, [CITY], Console(quiet=True))
    assert (report.published, report.rejected_hours, report.failed) == (5 * 24, 0, {})
    assert result is not None and result.success
    failed = [(e.check_name, e.partition, e.description) for e in result.get_asset_check_evaluations() if not e.passed]
    assert failed == []

    names = list(_expected(COMPARED[0]))
    with p.resources["postgres"].connect() as conn:
        rows = conn.execute(
            sql.SQL(
                "SELECT date, {} FROM gold_weather_daily_aggregates WHERE city = %s AND country = %s ORDER BY date"
            ).format(sql.SQL(", ").join(map(sql.Identifier, names))),
            ("Greensboro", "US"),
        ).fetchall()
    gold = {row[0]: dict(zip(names, (float(v) for v in row[1:]), strict=True)) for row in rows}
    assert sorted(gold) == [SPAN[0] + timedelta(days=n) for n in range(5)]
    assert sum(_expected(day)["total_rain_mm"] for day in COMPARED) > 0  # the span has rain to attribute
    for day in COMPARED:
        assert gold[day] == pytest.approx(_expected(day), abs=1e-9), day
