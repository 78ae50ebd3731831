"""`weather-platform stack up|down|status|env`: the local stack as one unit."""

from __future__ import annotations

import contextlib
import secrets
import shlex
import shutil
import stat
from pathlib import Path

from dotenv import dotenv_values
from rich.console import Console
from rich.table import Table

from weather_platform.settings import Settings, load_settings, stack_dir, stack_env_file
from weather_platform.stack import provision
from weather_platform.stack.services import (
    Kafka,
    MinIO,
    Postgres,
    Service,
    Simulator,
    SparkConnect,
    StackError,
    Status,
    port_taken_message,
)

console = Console(stderr=True)

# Generated once per stack; never in the repository. POSTGRES_PASSWORD is the writer role's.
GENERATED = ("S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "POSTGRES_PASSWORD", "WEATHER_READER_PASSWORD",
             "POSTGRES_ADMIN_PASSWORD", "SIMULATOR_FAULT_TOKEN", "SPARK_CONNECT_AUTHENTICATE_TOKEN")  # fmt: skip


def credentials() -> dict[str, str]:
    """The stack's credentials, created on first use with owner-only permissions.

    The whole state directory (data, logs, pids, credentials) is the owner's alone: other users of the host
    can neither list nor read it.
    """
    path = stack_env_file()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    values = {k: v for k, v in dotenv_values(path).items() if v} if path.exists() else {}
    missing = [key for key in GENERATED if key not in values]
    if missing:
        for key in missing:
            values[key] = "weather-admin" if key == "S3_ACCESS_KEY_ID" else secrets.token_urlsafe(24)
        path.touch(mode=0o600)
        path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return values


def _owner_only(state: Path) -> None:
    """Take every permission of group and others off the state directory and what it holds (older stacks made
    their files world-readable); the services keep them so through their umask."""
    state.chmod(0o700)
    for entry in state.rglob("*"):
        with contextlib.suppress(OSError):
            mode = entry.lstat().st_mode
            if not stat.S_ISLNK(mode) and mode & 0o077:
                entry.chmod(stat.S_IMODE(mode) & 0o700)


def services(settings: Settings | None = None) -> list[Service]:
    creds = credentials()  # first, so that settings see freshly generated credentials
    settings = settings or load_settings()
    state = stack_dir()
    return [cls(settings, state, creds) for cls in (Postgres, MinIO, Kafka, Simulator, SparkConnect)]


def up() -> list[Status]:
    """Provision, start and set up every local service; safe to run again while the stack runs."""
    stack = [s for s in services() if s.is_local()]
    # Every port is checked before anything starts: a taken port leaves no service started and stopped again.
    taken = [port_taken_message(service, port) for service in stack for port in service.taken_ports()]
    if taken:
        raise StackError("; ".join(taken))
    _owner_only(stack_dir())
    for service in stack:
        service.provision()
    provision.spark_jars()
    started = []
    try:
        for service in stack:
            if service.launch():
                started.append(service)
                console.print(f"started {service.name} on 127.0.0.1:{service.port} (log: {service.log})")
        with console.status("waiting for every service to answer its health probe…"):
            for service in stack:
                service.wait_ready()
    except BaseException:
        for service in reversed(started):  # leave nothing half-started behind
            service.stop()
        if started:
            console.print(f"stopped again: {', '.join(s.name for s in started)} (the stack starts whole or not at all)")
        raise
    return [s.status() for s in stack]


def down(purge: bool = False) -> list[str]:
    """Stop every service of the stack gracefully; `purge` also deletes data and logs (not the download cache)."""
    stopped = [s.name for s in reversed(services()) if s.stop()]
    if purge:
        shutil.rmtree(stack_dir(), ignore_errors=True)
    return stopped


def status() -> list[Status]:
    """Every service of the local stack that is configured here or still runs (e.g. the simulator after an API key
    was set), so that nothing `down` would stop goes unseen."""
    return [s.status() for s in services() if s.is_local() or s.pid() is not None]


def print_status(rows: list[Status]) -> None:
    table = Table(title="weather-platform local stack")
    for column in ("service", "port", "pid", "health", "log"):
        table.add_column(column)
    for row in rows:
        colour = "green" if row.healthy else "red"
        table.add_row(row.name, str(row.port), str(row.pid or "-"), f"[{colour}]{row.health}[/{colour}]", str(row.log))
    spark = provision.cache_dir()
    table.caption = f"Spark: runs work on spark-connect (SPARK_REMOTE); S3A and JDBC jars cached under {spark}"
    Console().print(table)


def env_lines(settings: Settings | None = None) -> list[str]:
    """`export` lines that let any shell, psql, kafka-python, boto3 or a BI tool reach the running stack."""
    creds = credentials()
    settings = settings or load_settings()
    values: dict[str, str] = {
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "KAFKA_TOPIC": settings.kafka_topic,
        "KAFKA_DLQ_TOPIC": settings.kafka_dlq_topic,
        "S3_ENDPOINT_URL": settings.s3_endpoint_url or "",
        "S3_ACCESS_KEY_ID": settings.secret("s3_access_key_id"),
        "S3_SECRET_ACCESS_KEY": settings.secret("s3_secret_access_key"),
        "S3_REGION": settings.s3_region,
        "BRONZE_BUCKET": settings.bronze_bucket,
        "SILVER_BUCKET": settings.silver_bucket,
        "POSTGRES_HOST": settings.postgres_host,
        "POSTGRES_PORT": str(settings.postgres_port),
        "POSTGRES_USER": settings.postgres_user,
        "POSTGRES_PASSWORD": settings.secret("postgres_password"),
        "POSTGRES_DB": settings.postgres_db,
        "DAGSTER_POSTGRES_DB": settings.dagster_postgres_db,
        "WEATHER_API_BASE_URL": settings.api_base_url,
        "WEATHER_CITIES": settings.weather_cities,
        "SPARK_MASTER": settings.spark_master,
        **_spark_connect(settings, creds),
        "WEATHER_READER_PASSWORD": creds["WEATHER_READER_PASSWORD"],
        # the names psql, boto3 and the AWS CLI read on their own
        "PGHOST": settings.postgres_host,
        "PGPORT": str(settings.postgres_port),
        "PGUSER": settings.postgres_user,
        "PGPASSWORD": settings.secret("postgres_password"),
        "PGDATABASE": settings.postgres_db,
        "AWS_ACCESS_KEY_ID": settings.secret("s3_access_key_id"),
        "AWS_SECRET_ACCESS_KEY": settings.secret("s3_secret_access_key"),
        "AWS_ENDPOINT_URL": settings.s3_endpoint_url or "",
        "AWS_DEFAULT_REGION": settings.s3_region,
    }
    return [f"export {key}={shlex.quote(value)}" for key, value in values.items()]


def _spark_connect(settings: Settings, creds: dict[str, str]) -> dict[str, str]:
    """SPARK_REMOTE and its token: the stack's Spark Connect server unless SPARK_REMOTE names another one."""
    server = SparkConnect(settings, stack_dir(), creds)
    if not server.is_local():
        return {}
    return {"SPARK_REMOTE": server.url, "SPARK_CONNECT_AUTHENTICATE_TOKEN": creds["SPARK_CONNECT_AUTHENTICATE_TOKEN"]}
