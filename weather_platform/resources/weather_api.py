"""The weather source for Dagster: OpenWeather with a key, else the simulator; the key is an EnvVar, never shown."""

import dagster as dg

from weather_platform.settings import parse_cities
from weather_platform.sources.openweather import OpenWeatherClient


class WeatherApiResource(dg.ConfigurableResource):
    base_url: str
    api_key: str | None = None
    cities: str  # ';'-separated OpenWeather `q` values
    timeout_seconds: float = 10.0

    @property
    def city_list(self) -> list[str]:
        return parse_cities(self.cities)

    def client(self) -> OpenWeatherClient:
        source = "openweather" if self.api_key else "simulator"
        return OpenWeatherClient(self.base_url, self.api_key or None, timeout=self.timeout_seconds, source=source)
