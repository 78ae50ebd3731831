"""Typed settings read from the environment (docs/DESIGN.md §3 names them: they are a contract).

Precedence, highest first: process environment, `./.env`, then the credentials the local stack generated
on its first start (`<stack dir>/stack.env`). So on a laptop everything works with no configuration, and on a
real cluster the environment alone decides. Secrets are `SecretStr`: they never print in reprs or logs.
"""

from __future__ import annotations

import os
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CITIES = "London,GB;Paris,FR;New York,US;Tokyo,JP;Sydney,AU"
OPENWEATHER_BASE_URL = "https://api.openweathermap.org/data/2.5"


def stack_dir() -> Path:
    """Where the local stack keeps data, logs, pids and its generated credentials (outside the checkout)."""
    default = Path.home() / ".local" / "state" / "weather-platform"
    return Path(os.environ.get("WEATHER_PLATFORM_STATE", default)).expanduser()


def cache_dir() -> Path:
    """Where downloaded and built artifacts (Kafka jars, Spark jars, MinIO) are cached across checkouts."""
    default = Path.home() / ".cache" / "weather-platform"
    return Path(os.environ.get("WEATHER_PLATFORM_CACHE", default)).expanduser()


def stack_env_file() -> Path:
    return stack_dir() / "stack.env"


class Settings(BaseSettings):
    """Every knob of the platform; field names are the environment variable names, lower-cased."""

    model_config = SettingsConfigDict(env_file=(stack_env_file(), ".env"), env_file_encoding="utf-8", extra="ignore")

    openweather_api_key: SecretStr | None = None
    weather_api_base_url: str | None = None
    # The source of current readings: OpenWeather (with a key, else the simulator) or Open-Meteo (no key). Open-Meteo's
    # forecast, archive and geocoding URLs default to the local simulator, which speaks all three.
    weather_source: Literal["openweather", "open-meteo"] = "openweather"
    open_meteo_forecast_url: str | None = None
    open_meteo_archive_url: str | None = None
    open_meteo_geocoding_url: str | None = None
    weather_cities: str = DEFAULT_CITIES
    simulator_port: int = 8089
    simulator_fault_token: SecretStr | None = None  # enables the simulator's fault injection (`X-Fault-Token`)

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_topic: str = "weather-data"
    kafka_dlq_topic: str = "weather-data-dlq"
    # The producer's client (ingestion, history, demo): librdkafka via confluent-kafka, or pure-Python kafka-python.
    kafka_client: Literal["confluent-kafka", "kafka-python"] = "confluent-kafka"

    s3_endpoint_url: str | None = "http://127.0.0.1:9000"
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_region: str = "us-east-1"
    bronze_bucket: str = "bronze-layer"
    silver_bucket: str = "silver-layer"

    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_user: str = "weather_writer"
    postgres_password: SecretStr | None = None
    postgres_db: str = "weather_dw"
    dagster_postgres_db: str = "dagster"
    # The read-only BI role: the REST API and the dashboard connect as it, never as the writer.
    weather_reader_user: str = "weather_reader"
    weather_reader_password: SecretStr | None = None

    # `weather-platform serve`: the REST API and the dashboard.
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    dagster_ui_port: int = 3000  # `make demo`'s Dagster UI
    # `weather-platform doctor`: the least free disk (cache, state) and available memory the local stack needs.
    doctor_min_free_gb: float = 3.0
    doctor_min_memory_gb: float = 2.0

    # Spark Connect: the URL of a long-lived Spark server (`sc://host:port`) that every run's Spark work goes to, so
    # no run starts a JVM of its own; the local stack runs one (`weather-platform stack env` exports it). Unset: each
    # run starts Spark in its own process with SPARK_MASTER. The token authenticates clients (Spark's own variable).
    spark_remote: str | None = None
    spark_connect_authenticate_token: SecretStr | None = None
    spark_master: str = "local[*]"
    spark_ui_port: int | None = None  # Spark's web UI (runs' stages and tasks): off unless a port is given
    spark_driver_memory: str = "1g"  # the local stack with `dagster dev` fits in 3 GiB (docs/DESIGN.md §6)
    spark_log_level: str = "ERROR"
    # The first daily partition: the UI lists days from here, and bronze sends observations of earlier days to
    # the dead-letter topic (no partition would ever process them).
    weather_partitions_start: date = date(2025, 1, 1)
    # Seconds between the 3 retries of a failed bronze, silver or gold step (a restarting service).
    weather_retry_delay_seconds: float = 300.0
    alert_webhook_url: SecretStr | None = None  # Slack-compatible webhook for failed runs (its URL holds a token)

    @property
    def cities(self) -> list[str]:
        return parse_cities(self.weather_cities)

    @property
    def uses_simulator(self) -> bool:
        return self.openweather_api_key is None

    @property
    def open_meteo_urls(self) -> tuple[str, str, str]:
        """(forecast, archive, geocoding) base URLs: each the one given, else the local simulator."""
        simulator = f"http://127.0.0.1:{self.simulator_port}"
        given = (self.open_meteo_forecast_url, self.open_meteo_archive_url, self.open_meteo_geocoding_url)
        forecast, archive, geocoding = ((url or simulator).rstrip("/") for url in given)
        return forecast, archive, geocoding

    @cached_property
    def api_base_url(self) -> str:
        """The explicit URL if given, else OpenWeather's with a key, else the local simulator."""
        if self.weather_api_base_url:
            return self.weather_api_base_url.rstrip("/")
        if self.openweather_api_key is not None:
            return OPENWEATHER_BASE_URL
        return f"http://127.0.0.1:{self.simulator_port}/data/2.5"

    @property
    def kafka_port(self) -> int:
        return _port(self.kafka_bootstrap_servers.split(",")[0], default=9092)

    @property
    def spark_connect_port(self) -> int:
        """The local stack's Spark Connect port: SPARK_REMOTE's, else Spark Connect's default 15002."""
        return urlparse((self.spark_remote or "").replace("sc://", "http://", 1)).port or 15002

    @property
    def s3_port(self) -> int:
        return urlparse(self.s3_endpoint_url or "").port or 9000

    def secret(self, name: str) -> str:
        """The plain value of a secret field, or a clear error naming the variable that is missing."""
        value = getattr(self, name)
        if value is None:
            raise MissingSetting(name.upper())
        return str(value.get_secret_value())

    def export_secrets(self) -> None:
        """Put secrets found in .env or the stack's file into this process's environment (where unset), so the
        Dagster `EnvVar`s of a run this command starts resolve (the CLI's `demo` only; definitions never write
        the environment)."""
        for name in DAGSTER_SECRETS:
            value = getattr(self, name)
            if value is not None:
                os.environ.setdefault(name.upper(), value.get_secret_value())

    def postgres_connect_kwargs(self, dbname: str | None = None) -> dict[str, Any]:
        return {
            "host": self.postgres_host,
            "port": self.postgres_port,
            "dbname": dbname or self.postgres_db,
            "user": self.postgres_user,
            "password": self.secret("postgres_password"),
        }

    def reader_connect_kwargs(self) -> dict[str, Any]:
        """Connection arguments of the read-only role (the API, the dashboard, BI tools)."""
        return {
            "host": self.postgres_host,
            "port": self.postgres_port,
            "dbname": self.postgres_db,
            "user": self.weather_reader_user,
            "password": self.secret("weather_reader_password"),
        }


# The secrets Dagster resources take as `EnvVar`s: resolved from the environment by Dagster itself, never shown.
DAGSTER_SECRETS = ("openweather_api_key", "s3_access_key_id", "s3_secret_access_key", "postgres_password",
                   "alert_webhook_url", "spark_connect_authenticate_token")  # fmt: skip


def parse_cities(text: str) -> list[str]:
    """The entries of WEATHER_CITIES (`City[,State],CC`, optionally `@lat,lon`, separated by `;`), or
    InvalidSetting."""
    cities = [entry.strip() for entry in text.split(";") if entry.strip()]
    if not cities:
        raise InvalidSetting("WEATHER_CITIES is empty: give ';'-separated cities, e.g. 'London,GB;Paris,FR'")
    for city in cities:
        name, _ = split_city(city)
        parts = [part.strip() for part in name.split(",")]
        if len(parts) > 3:
            raise InvalidSetting(
                f"WEATHER_CITIES entry {city!r} has {len(parts)} comma-separated parts: separate cities with ';' "
                "(e.g. 'London,GB;Paris,FR'); a comma only separates a city from its state and country"
            )
        if not all(parts):
            raise InvalidSetting(f"WEATHER_CITIES entry {city!r} has an empty part: write 'City,CC', e.g. 'London,GB'")
    return cities


def split_city(entry: str) -> tuple[str, tuple[float, float] | None]:
    """(`City[,State],CC`, (latitude, longitude) or None) of a WEATHER_CITIES entry such as `Lima,PE@-12.05,-77.04`:
    coordinates given with the name spare the geocoder (Open-Meteo) and name a place no geocoder knows."""
    name, at, where = entry.partition("@")
    if not at:
        return entry.strip(), None
    try:
        latitude, longitude = (float(part) for part in where.split(","))
    except ValueError:
        raise InvalidSetting(
            f"WEATHER_CITIES entry {entry!r}: after '@' give latitude,longitude in degrees, "
            "e.g. 'Lima,PE@-12.05,-77.04'"
        ) from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidSetting(f"WEATHER_CITIES entry {entry!r}: latitude must be in -90…90 and longitude in -180…180")
    return name.strip(), (latitude, longitude)


class InvalidSetting(ValueError):
    """A setting whose value cannot work; the message names the variable and an example of a good value."""


class MissingSetting(RuntimeError):
    def __init__(self, variable: str) -> None:
        super().__init__(
            f"{variable} is not set: export it, put it in .env, or start the local stack "
            "(`weather-platform stack up`), which generates it"
        )
        self.variable = variable


def _port(hostport: str, default: int) -> int:
    _, _, port = hostport.strip().rpartition(":")
    return int(port) if port.isdigit() else default


def load_settings() -> Settings:
    """Settings with the stack's credentials file looked up now (the state dir may be chosen at run time)."""
    return Settings(_env_file=(stack_env_file(), ".env"))
