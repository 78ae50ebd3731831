"""The weather source for Dagster: OpenWeather with a key, else the simulator, or Open-Meteo (WEATHER_SOURCE); the
OpenWeather key is an EnvVar, never shown."""

import dagster as dg

from weather_platform.settings import parse_cities
from weather_platform.sources.open_meteo import OpenMeteoClient
from weather_platform.sources.openweather import OpenWeatherClient


class WeatherApiResource(dg.ConfigurableResource):
    base_url: str
    api_key: str | None = None
    cities: str  # ';'-separated OpenWeather `q` values
    timeout_seconds: float = 10.0
    source: str = "openweather"  # or "open-meteo": then base_url is Open-Meteo's forecast URL
    archive_url: str | None = None  # Open-Meteo's archive: history, whatever the source of current conditions
    geocoding_url: str | None = None  # Open-Meteo's geocoder

    @property
    def city_list(self) -> list[str]:
        return parse_cities(self.cities)

    def history_client(self) -> OpenMeteoClient:
        """Open-Meteo's archive and geocoder (whatever the current-conditions source): where history comes from."""
        return OpenMeteoClient(self.base_url, self.archive_url, self.geocoding_url, timeout=self.timeout_seconds)

    def client(self) -> OpenWeatherClient:
        if self.source == "open-meteo":
            return OpenMeteoClient(self.base_url, self.archive_url, self.geocoding_url, timeout=self.timeout_seconds)
        source = "openweather" if self.api_key else "simulator"
        return OpenWeatherClient(self.base_url, self.api_key or None, timeout=self.timeout_seconds, source=source)
