"""A stopped or unreachable service gets an error that names it, instead of a driver's stack trace.

The clients raise very different things when their server is gone — psycopg an OperationalError, botocore an
EndpointConnectionError, pyarrow an OSError mentioning AWS, Spark a Py4JJavaError around a ConnectException (or,
on Spark Connect, a gRPC error: UNAVAILABLE for the server itself, its Java message for S3 behind it),
kafka-python NoBrokersAvailable or a timeout. `naming_services` turns each into one ServiceUnavailable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


class ServiceUnavailable(RuntimeError):
    def __init__(self, service: str, endpoint: str, cause: BaseException) -> None:
        grpc_details = re.search(r'details = "([^"]*)"', str(cause))  # a gRPC error's first line says nothing
        text = grpc_details[1] if grpc_details else str(cause).strip()
        detail = text.splitlines()[0][:300] if text else type(cause).__name__
        super().__init__(f"{service} at {endpoint} is unavailable: {detail}")
        self.service, self.endpoint = service, endpoint


@dataclass(frozen=True)
class Endpoints:
    kafka: str | None = None
    s3: str | None = None
    postgres: str | None = None
    spark: str | None = None  # the Spark Connect server's URL, when runs use one


_UNREACHABLE_TEXT = (
    "connection refused",
    "could not connect",
    "unable to execute http request",
    "connectexception",
    "network_connection",
    "failed to connect",
    "connect timeout",
    "connection reset",
    "server closed the connection",
    "terminating connection",
)


def _service_of(exc: BaseException, endpoints: Endpoints) -> tuple[str, str] | None:
    module = type(exc).__module__
    text = f"{type(exc).__name__}: {exc}".lower()
    if module.startswith("psycopg") and type(exc).__name__ in {"OperationalError", "InterfaceError"}:
        return ("PostgreSQL", endpoints.postgres or "?")
    if module.startswith(("botocore", "urllib3")) and any(t in text for t in ("endpoint", "connect", "timeout")):
        return ("S3", endpoints.s3 or "?")
    if module.startswith("kafka") and any(t in text for t in ("nobrokers", "timeout", "connection")):
        return ("Kafka", endpoints.kafka or "?")
    if module.startswith("pyspark.errors") and "failed to connect to all addresses" in text:
        return ("Spark Connect", endpoints.spark or "?")  # the server itself (S3 or JDBC failures come through it)
    if any(t in text for t in _UNREACHABLE_TEXT):
        if "s3" in text or "aws" in text or "minio" in text:
            return ("S3", endpoints.s3 or "?")
        if "postgres" in text or "jdbc" in text:
            return ("PostgreSQL", endpoints.postgres or "?")
    return None


@contextmanager
def naming_services(endpoints: Endpoints) -> Iterator[None]:
    try:
        yield
    except ServiceUnavailable:
        raise
    except Exception as exc:
        for candidate in (exc, exc.__cause__, exc.__context__):
            if candidate is not None and (found := _service_of(candidate, endpoints)) is not None:
                raise ServiceUnavailable(*found, candidate) from exc
        raise
