"""The gold warehouse; the password is an EnvVar, so it never appears in the UI or in run logs."""

import dagster as dg
import psycopg


class PostgresResource(dg.ConfigurableResource):
    host: str
    port: int = 5432
    user: str
    password: str
    dbname: str = "weather_dw"

    def connect(self, **kwargs: object) -> psycopg.Connection:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=self.dbname,
            connect_timeout=10,
            **kwargs,  # type: ignore[arg-type]
        )
