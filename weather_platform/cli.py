"""weather-platform: run the weather data platform — its local stack of services, the simulator, ingestion, the
bronze writer, the demo, the dashboard and REST API, and BI connection files. `weather-platform COMMAND --help` tells
more about each command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from weather_platform.settings import Settings

console = Console(stderr=True)


def _error(message: str) -> None:
    """One line on stderr, never wrapped: what is wrong and what to do."""
    console.print(f"[red]error:[/red] {message}", soft_wrap=True, highlight=False)


def _stack(args: argparse.Namespace) -> int:
    from weather_platform.stack import manager
    from weather_platform.stack.provision import ProvisionError
    from weather_platform.stack.services import StackError

    try:
        if args.action == "up":
            rows = manager.up()
            manager.print_status(rows)
            return 0 if all(r.healthy for r in rows) else 1
        if args.action == "down":
            stopped = manager.down(purge=args.purge)
            console.print(
                f"stopped: {', '.join(stopped) or 'nothing was running'}" + (" (data purged)" if args.purge else "")
            )
            return 0
        if args.action == "status":
            rows = manager.status()
            manager.print_status(rows)
            return 0 if all(r.healthy for r in rows) else 3
        down = [row.name for row in manager.status() if not row.healthy]
        if down:
            _error(
                f"the local stack is not running ({', '.join(down)} down): "
                "start it with `weather-platform stack up`, then run `stack env` again"
            )
            return 3
        print("\n".join(manager.env_lines()))
        return 0
    except (StackError, ProvisionError) as exc:
        _error(f"{exc}")
        return 2


def _simulator(args: argparse.Namespace) -> int:
    import signal

    from weather_platform.settings import load_settings
    from weather_platform.sources.simulator import run_simulator

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop like Ctrl-C: close the socket cleanly
    token = load_settings().simulator_fault_token
    console.print(f"OpenWeather-compatible simulator on http://{args.host}:{args.port}/data/2.5 (Ctrl-C stops)")
    run_simulator(args.host, args.port, fault_token=token.get_secret_value() if token else None)
    return 0


def _ingest(args: argparse.Namespace) -> int:
    import time

    from rich.table import Table

    from weather_platform.connections import weather_client
    from weather_platform.settings import load_settings, parse_cities
    from weather_platform.sources.simulator import require_known
    from weather_platform.streaming.producer import build_producer, ingest_round

    settings = load_settings()
    cities = parse_cities(args.cities) if args.cities else settings.cities
    if settings.uses_simulator:
        require_known(cities)
    failed = 0
    with weather_client(settings) as client:
        producer = build_producer(settings.kafka_bootstrap_servers, settings.kafka_client)
        try:
            for round_number in range(1, args.rounds + 1):
                report = ingest_round(client, producer, settings.kafka_topic, cities)
                table = Table(title=f"round {round_number}/{args.rounds}: {report.sent} sent, {report.failed} failed")
                for column in ("city", "result", "attempts", "latency s", "partition/offset"):
                    table.add_column(column)
                for c in report.cities:
                    result = "[green]sent[/green]" if c.sent else f"[red]{c.error}[/red]"
                    where = f"{c.partition}/{c.offset}" if c.sent else "-"
                    table.add_row(c.city, result, str(c.attempts), f"{c.latency_seconds:.3f}", where)
                Console().print(table)
                failed += report.failed
                if round_number < args.rounds:
                    time.sleep(args.interval)
        finally:
            producer.close()
    return 1 if failed else 0


def _consume(args: argparse.Namespace) -> int:
    import time

    from weather_platform.connections import bronze_writer
    from weather_platform.service_errors import Endpoints, ServiceUnavailable, naming_services
    from weather_platform.settings import load_settings
    from weather_platform.streaming.bronze_writer import outage_backoff

    settings = load_settings()
    where = Endpoints(kafka=settings.kafka_bootstrap_servers, s3=settings.s3_endpoint_url or "AWS S3")
    stop = _StopSignals()
    delays = outage_backoff()
    try:
        while True:
            try:
                with naming_services(where):
                    writer = bronze_writer(settings, group_id=args.group, flush_seconds=args.flush_seconds)
                break
            except ServiceUnavailable as exc:
                if args.mode != "follow":  # a one-off drain says so at once; the service waits, as it does later on
                    _error(f"{exc} (is the stack up? `weather-platform stack up`)")
                    return 2
                delay = next(delays)
                console.print(f"{exc}; retrying in {delay:.0f} s", soft_wrap=True)
                time.sleep(delay)
    except KeyboardInterrupt:  # nothing read yet, nothing to finish
        return stop.exit_code
    console.print(f"bronze writer: {settings.kafka_topic} → s3://{settings.bronze_bucket}/weather/ ({args.mode})")
    stop.on_first = writer.request_stop
    try:
        with naming_services(where):
            report = writer.run(args.mode, max_seconds=args.max_seconds)
    except KeyboardInterrupt:  # the second signal: the batch in hand is dropped uncommitted, to be read again
        report = writer.report
    except ServiceUnavailable as exc:
        _error(f"{exc}")
        return 2
    finally:
        writer.close()
    if stop.received:
        console.print(f"{stop.received.name}: stopped after the last whole batch")
    console.print(
        f"{report.rows} rows in {len(report.objects)} objects, {report.dead_letters} dead letters, "
        f"days {sorted(str(d) for d in report.days)}, lag after {report.lag_after}, "
        f"outages ridden out {writer.outages}, batches dropped after losing partitions {writer.fenced_batches}"
    )
    return 0


class _StopSignals:
    """How the bronze service stops: SIGTERM (a service manager) or SIGINT (Ctrl-C; left alone when the process was
    started with it ignored, as a shell's background job is) asks the writer to finish its batch and stop, instead of
    interrupting a Kafka client in the middle of a call; a second signal, or one before the writer exists,
    interrupts at once."""

    def __init__(self) -> None:
        import signal

        self.received: signal.Signals | None = None
        self.on_first: Callable[[], None] | None = None
        signal.signal(signal.SIGTERM, self._handle)
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, _frame: object) -> None:
        import signal

        first = self.received is None
        self.received = self.received or signal.Signals(signum)
        if first and self.on_first is not None:
            self.on_first()
            return
        raise KeyboardInterrupt

    @property
    def exit_code(self) -> int:
        """128 + the signal's number, as a shell reports a process the signal ended."""
        return 128 + (self.received or 2)


def _dagster_ready() -> Settings | None:
    """The settings, once DAGSTER_HOME holds the project's instance and its PostgreSQL answers; else None, said why.

    The instance (dagster.yaml) reads its storage from POSTGRES_*: they are taken from the settings (the environment,
    .env or the local stack's credentials) so no `eval "$(weather-platform stack env)"` is needed, and so are the
    resources' secrets (Dagster resolves EnvVars from this process's environment)."""
    import os
    from pathlib import Path

    import psycopg

    from weather_platform.settings import load_settings

    home = os.environ.get("DAGSTER_HOME")
    if not home or not (Path(home) / "dagster.yaml").is_file():
        _error(
            "DAGSTER_HOME must name a folder holding this project's dagster.yaml: run `make demo`, or "
            "`mkdir -p .dagster_home && cp dagster.instance.yaml .dagster_home/dagster.yaml "
            "&& export DAGSTER_HOME=$PWD/.dagster_home`"
        )
        return None
    settings = load_settings()
    where = f"PostgreSQL at {settings.postgres_host}:{settings.postgres_port}"
    try:
        instance_env = {
            "POSTGRES_HOST": settings.postgres_host,
            "POSTGRES_PORT": str(settings.postgres_port),
            "POSTGRES_USER": settings.postgres_user,
            "POSTGRES_PASSWORD": settings.secret("postgres_password"),
            "DAGSTER_POSTGRES_DB": settings.dagster_postgres_db,
        }
        with psycopg.connect(**settings.postgres_connect_kwargs(settings.dagster_postgres_db), connect_timeout=5):
            pass
    except psycopg.OperationalError as exc:
        reason = (str(exc).strip().splitlines() or ["no answer"])[-1]
        _error(f"{where}: {reason} — is the stack up? `weather-platform stack up`")
        return None
    for name, value in instance_env.items():
        os.environ.setdefault(name, value)
    settings.export_secrets()
    return settings


def _demo(args: argparse.Namespace) -> int:
    import dagster as dg

    from weather_platform import demo
    from weather_platform.sources.simulator import require_known

    settings = _dagster_ready()
    if settings is None:
        return 2
    if settings.uses_simulator:
        require_known(settings.cities)
    with dg.DagsterInstance.get() as instance:
        return 0 if demo.run(settings, instance) else 1


def _backfill(args: argparse.Namespace) -> int:
    import dagster as dg

    from weather_platform import history
    from weather_platform.resources import build_resources
    from weather_platform.settings import parse_cities

    settings = _dagster_ready()
    if settings is None:
        return 2
    start, end = history.parse_span(args.start, args.end, settings.weather_partitions_start)
    cities = parse_cities(args.cities) if args.cities else settings.cities
    with dg.DagsterInstance.get() as instance:
        resources = build_resources(settings)
        report, result = history.run_backfill(instance, resources, (start, end), cities, console)
    history.print_summary(console, report, result, start, end)
    return 0 if report.published and not report.failed and result is not None and result.success else 1


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from weather_platform.api.app import create_app
    from weather_platform.settings import load_settings

    settings = load_settings()
    host, port = args.host or settings.api_host, args.port or settings.api_port
    app = create_app(settings)  # a missing reader password is main()'s one-line error
    console.print(f"dashboard http://{host}:{port}/  ·  API http://{host}:{port}/docs  (Ctrl-C stops)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0


def _bi(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from weather_platform.settings import load_settings
    from weather_platform.warehouse.bi import BI_RELATIONS, powerbi_data_source

    settings = load_settings()
    target = Path(args.output)
    target.write_text(json.dumps(powerbi_data_source(settings), indent=2) + "\n", encoding="utf-8")
    console.print(
        f"wrote {target}: open it in Power BI Desktop, sign in with Database credentials, user "
        f"{settings.weather_reader_user} (password: WEATHER_READER_PASSWORD in `weather-platform stack env`), "
        f"then import {', '.join(BI_RELATIONS)}"
    )
    return 0


def _migrate(args: argparse.Namespace) -> int:
    import psycopg

    from weather_platform.settings import load_settings
    from weather_platform.warehouse.migrations import migrate

    settings = load_settings()
    where = f"{settings.postgres_host}:{settings.postgres_port}/{settings.postgres_db}"
    try:
        with psycopg.connect(**settings.postgres_connect_kwargs(), autocommit=True) as conn:
            applied = migrate(conn)
    except psycopg.OperationalError as exc:
        _error(f"PostgreSQL at {where} is not answering: {str(exc).splitlines()[0]}")
        return 1
    console.print(f"{where}: applied {', '.join(applied)}" if applied else f"{where}: the gold schema is current")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from rich.table import Table

    from weather_platform.settings import load_settings
    from weather_platform.stack import doctor, manager

    # The services this machine runs (or still runs): an external Kafka or S3 has no local port to check.
    checks = doctor.run(load_settings(), [s for s in manager.services() if s.is_local() or s.pid() is not None])
    table = Table(title="weather-platform doctor")
    for column in ("check", "state", "detail", "fix"):
        table.add_column(column)
    colours = {doctor.OK: "green", doctor.WARN: "yellow", doctor.FAIL: "red"}
    for check in checks:
        state = f"[{colours[check.state]}]{check.state}[/{colours[check.state]}]"
        table.add_row(check.name, state, check.detail, check.fix)
    Console(stderr=True, width=max(console.width, 140)).print(table)
    failed = [c.name for c in checks if c.state == doctor.FAIL]
    if failed:
        _error(f"not ready: {', '.join(failed)} (see the fix column)")
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="weather-platform", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks (also WEATHER_PLATFORM_DEBUG=1)")
    commands = parser.add_subparsers(dest="command", required=True)
    stack = commands.add_parser(
        "stack",
        help="the local stack of real services (Kafka, MinIO, PostgreSQL, the simulator; Spark jars)",
        description="up: provision what is missing, start what is not running, wait until each service answers "
        "(the first run downloads and builds for about 5 minutes); down: stop every service, keep the data "
        "(--purge deletes it); status: each service with port, pid and health; env: `export` lines for a shell "
        '(eval "$(weather-platform stack env)"), only while the stack runs.',
    )
    stack.add_argument("action", choices=["up", "down", "status", "env"], help="up, down, status or env (see above)")
    stack.add_argument("--purge", action="store_true", help="with down: also delete the stack's data and logs")
    stack.set_defaults(func=_stack)
    sim = commands.add_parser(
        "simulator",
        help="serve the OpenWeather-compatible simulator (the offline source)",
        description="The simulator answers GET /data/2.5/weather?q=City,CC in OpenWeather's JSON shape for its "
        "25 cities; `weather-platform stack up` runs it for you.",
    )
    sim.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    sim.add_argument("--port", type=int, default=8089, help="port (default 8089; the stack uses SIMULATOR_PORT)")
    sim.add_argument("--state", help="working directory of the local stack (lets `stack status` find it)")
    sim.set_defaults(func=_simulator)
    ingest = commands.add_parser(
        "ingest",
        help="poll the weather API and publish observations to Kafka",
        description="Fetch every city of WEATHER_CITIES from OpenWeather (with OPENWEATHER_API_KEY) or the simulator, "
        "publish them to KAFKA_TOPIC and print a per-city report; exit 1 when a city failed.",
    )
    ingest.add_argument("--rounds", type=int, default=1, help="how many polling rounds (default 1)")
    ingest.add_argument("--interval", type=float, default=60.0, help="seconds between rounds (default 60)")
    ingest.add_argument("--cities", help="override WEATHER_CITIES, e.g. 'London,GB;Paris,FR' (';'-separated)")
    ingest.set_defaults(func=_ingest)
    consume = commands.add_parser(
        "consume",
        help="the bronze writer: Kafka → Parquet on S3, exactly once",
        description="Read KAFKA_TOPIC and write each record into the bronze folder of its event day, committing "
        "offsets only after the objects are written; bad records go to KAFKA_DLQ_TOPIC with their reason.",
    )
    consume.add_argument(
        "--mode",
        choices=["follow", "drain"],
        default="follow",
        help="follow: run as a service, riding out outages (default); drain: write what is there, then stop",
    )
    consume.add_argument("--group", default="weather-bronze-writer", help="Kafka consumer group (default %(default)s)")
    consume.add_argument("--flush-seconds", type=float, default=10.0, help="write a batch at least this often")
    consume.add_argument("--max-seconds", type=float, default=None, help="stop after this long (default: never)")
    consume.set_defaults(func=_consume)
    demo = commands.add_parser(
        "demo",
        help="run today's partition through every layer via Dagster and summarise",
        description="Publish today's past hours from the simulator and one live round, materialize every asset of "
        "today through Dagster (about a minute on a laptop), and print rows and checks per layer. Needs the "
        "stack (`weather-platform stack up`) and DAGSTER_HOME; `make demo` does all of it and then serves the "
        "dashboard (API_PORT, 8080) and the Dagster UI (DAGSTER_UI_PORT, 3000).",
    )
    demo.set_defaults(func=_demo)
    backfill = commands.add_parser(
        "backfill",
        help="fetch a past range from Open-Meteo's archive, publish it through Kafka, then bronze → silver → gold",
        description="Fetch the hourly archive of every city (WEATHER_CITIES, or --cities) for --start … --end in "
        "chunks of one city and month from Open-Meteo (OPEN_METEO_*_URL; the local simulator by default), publish "
        "every hour to KAFKA_TOPIC like a live reading, drain it into bronze, then materialize bronze, silver and "
        "gold of the range as one Dagster run with checks per day. Re-running a range changes nothing in gold.",
    )
    backfill.add_argument("--start", required=True, help="first UTC day, YYYY-MM-DD")
    backfill.add_argument("--end", required=True, help="last UTC day (inclusive), YYYY-MM-DD")
    backfill.add_argument("--cities", help="override WEATHER_CITIES, e.g. 'London,GB;Paris,FR' (';'-separated)")
    backfill.set_defaults(func=_backfill)
    serve = commands.add_parser(
        "serve",
        help="the REST API and the dashboard over gold (read-only role)",
        description="Serve the dashboard (/), the REST API (/api/v1/…, /docs) and /health as weather_reader.",
    )
    serve.add_argument("--host", help="bind address (default API_HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default API_PORT, 8080)")
    serve.set_defaults(func=_serve)
    migrate = commands.add_parser(
        "migrate",
        help="apply the gold schema's pending migrations (once per release; runs only check the schema)",
        description="Apply the pending versioned migrations of warehouse/migrations to POSTGRES_DB as POSTGRES_USER, "
        "each in its own transaction; safe to run again (it then does nothing). `stack up` runs it for the local "
        "stack, the `warehouse-migrate` service for docker compose.",
    )
    migrate.set_defaults(func=_migrate)
    doctor = commands.add_parser(
        "doctor",
        help="check this machine for the local stack: tools, ports, disk, memory, services",
        description="Python 3.11+, Java 17, Maven and Go (only while the jars or MinIO are not cached), unshare as "
        "root, each service's port, free disk (DOCTOR_MIN_FREE_GB) and memory (DOCTOR_MIN_MEMORY_GB), the services, "
        "and the OpenWeather key when set. Prints a table with the fix for each problem; exit 1 when one fails.",
    )
    doctor.set_defaults(func=_doctor)
    bi = commands.add_parser("bi", help="connection files for BI tools (read-only role, no password inside)")
    bi.add_argument("tool", choices=["powerbi"], help="powerbi: a Power BI Desktop .pbids data source file")
    bi.add_argument("--output", default="weather_dw.pbids", help="file to write (default: ./weather_dw.pbids)")
    bi.set_defaults(func=_bi)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; an expected mistake (a setting missing or unusable) is one line and exit 2, not a traceback.

    `--debug` (or WEATHER_PLATFORM_DEBUG=1) shows the traceback instead.
    """
    import os

    from weather_platform.settings import InvalidSetting, MissingSetting

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (InvalidSetting, MissingSetting) as exc:
        if args.debug or os.environ.get("WEATHER_PLATFORM_DEBUG") == "1":
            raise
        _error(f"{exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
