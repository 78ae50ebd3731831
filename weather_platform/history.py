"""History: any past range of hourly observations fetched from Open-Meteo's archive and published to Kafka.

The archive is read in chunks of one city and one calendar month (a few hundred hours each), and every hourly
record goes through the same topic, key and contract as a live reading: the bronze writer files it under its event
day, silver de-duplicates on (city, country, timestamp), so publishing a range twice (a re-run, or a run that was
interrupted) leaves gold exactly as once. A city that fails (unknown to the geocoder, an API that keeps failing) is
reported and the other cities' history still arrives.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from weather_platform.settings import InvalidSetting
from weather_platform.sources.open_meteo import HourlyRows, OpenMeteoClient
from weather_platform.sources.openweather import WeatherApiError
from weather_platform.streaming.producer import ObservationProducer, send_observations

if TYPE_CHECKING:
    import dagster as dg

    from weather_platform.resources import KafkaResource, WeatherApiResource

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
FETCHES_IN_FLIGHT = 3  # archive chunks fetched ahead of the one being published
QUIET: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # the summary says the rest


@dataclass(frozen=True)
class Chunk:
    city: str
    start: date
    end: date


@dataclass
class HistoryReport:
    """What a history fetch did, chunk by chunk."""

    chunks_done: int = 0
    published: int = 0
    rejected_hours: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # city -> the error that stopped its history
    undelivered: int = 0
    seconds: float = 0.0  # fetching and publishing, from the first request to the last acknowledgement


def parse_span(start: str, end: str, earliest: date) -> tuple[date, date]:
    """The range `start` … `end` (YYYY-MM-DD, inclusive), or InvalidSetting saying what is wrong with it."""
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError as exc:
        raise InvalidSetting(f"start and end are days, YYYY-MM-DD: {exc}") from None
    if last < first:
        raise InvalidSetting(f"end {last} is before start {first}")
    if first < earliest:
        raise InvalidSetting(
            f"start {first} is before WEATHER_PARTITIONS_START ({earliest}): no partition would hold those days; "
            "set WEATHER_PARTITIONS_START earlier"
        )
    return first, last


def month_chunks(cities: list[str], start: date, end: date) -> list[Chunk]:
    """One chunk per city and calendar month of `start` … `end` (inclusive)."""
    chunks = []
    for city in cities:
        first = start
        while first <= end:
            next_month = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
            last = min(end, next_month - timedelta(days=1))
            chunks.append(Chunk(city, first, last))
            first = next_month
    return chunks


def publish_history(
    client: OpenMeteoClient,
    producer: ObservationProducer,
    topic: str,
    chunks: list[Chunk],
    progress: Callable[[Chunk, int], None] = lambda chunk, sent: None,
    fetch_ahead: int = FETCHES_IN_FLIGHT,
) -> HistoryReport:
    """Fetch each chunk and publish its hours (acks=all, idempotent), in the chunks' order; a failing city skips its
    remaining chunks. Up to `fetch_ahead` chunks are fetched while the current one is published: the archive's time
    to answer and the parsing overlap the publishing."""
    report = HistoryReport()
    started = time.perf_counter()
    pending = iter(chunks)
    in_flight: deque[tuple[Chunk, Future[HourlyRows]]] = deque()

    def fetch_next(pool: ThreadPoolExecutor) -> None:
        for chunk in pending:
            if chunk.city not in report.failed:
                in_flight.append((chunk, pool.submit(client.history, chunk.city, chunk.start, chunk.end)))
                return

    with ThreadPoolExecutor(max_workers=max(1, fetch_ahead), thread_name_prefix="archive") as pool:
        for _ in range(max(1, fetch_ahead)):
            fetch_next(pool)
        while in_flight:
            chunk, fetched = in_flight.popleft()
            fetch_next(pool)
            if chunk.city in report.failed:  # fetched before its city failed
                continue
            try:
                rows = fetched.result()
            except WeatherApiError as exc:
                report.failed[chunk.city] = str(exc)
                progress(chunk, 0)
                continue
            deliveries = send_observations(producer, topic, rows.observations)
            sent = sum(1 for d in deliveries if d.ok)
            report.published += sent
            report.undelivered += len(deliveries) - sent
            report.rejected_hours += len(rows.rejected)
            report.chunks_done += 1
            progress(chunk, sent)
    report.seconds = time.perf_counter() - started
    return report


def publish_range(
    weather_api: WeatherApiResource,
    kafka: KafkaResource,
    chunks: list[Chunk],
    progress: Callable[[Chunk, int], None] = lambda chunk, sent: None,
) -> HistoryReport:
    """`publish_history` with the archive client of `weather_api` and a producer of `kafka`'s topic (closed after):
    the command and the Dagster job publish alike."""
    with weather_api.history_client() as client:
        producer = kafka.producer()
        try:
            return publish_history(client, producer, kafka.topic, chunks, progress)
        finally:
            producer.close()


def run_backfill(
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    span: tuple[date, date],
    cities: list[str],
    console: Console,
) -> tuple[HistoryReport, dg.ExecuteInProcessResult | None]:
    """Fetch and publish the range with a progress bar, then drain Kafka into bronze and materialize bronze days,
    silver and gold of the range in one Dagster run (checks per day), with `resources`. None as the run when
    nothing was published."""
    import dagster as dg

    from weather_platform.automation.jobs import history_job
    from weather_platform.definitions import defs

    start, end = span
    chunks = month_chunks(cities, start, end)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        fetched = bar.add_task("archive chunks (city x month)", total=len(chunks))
        sent = bar.add_task("hourly observations published", total=None)

        def advance(chunk: Chunk, published: int) -> None:
            bar.advance(fetched)
            bar.advance(sent, published)

        report = publish_range(resources["weather_api"], resources["kafka"], chunks, advance)
    if not report.published:
        return report, None
    job = dg.Definitions(assets=defs.assets, jobs=[history_job], resources=resources).resolve_job_def(history_job.name)
    days = (end - start).days + 1
    with console.status(f"draining Kafka into bronze, then bronze, silver and gold of {days} days as one run…"):
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, tags=range_tags(start, end), run_config=QUIET
        )
    return report, result


def range_tags(start: date, end: date) -> dict[str, str]:
    """The tags of a history run over `start` … `end` (Dagster's partition range tags)."""
    return {"weather/source": "backfill", RANGE_START: start.isoformat(), RANGE_END: end.isoformat()}


def print_summary(
    console: Console, report: HistoryReport, result: dg.ExecuteInProcessResult | None, start: date, end: date
) -> None:
    """One table: what was fetched and published, and each day's checks."""
    table = Table(title=f"history backfill {start} … {end}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("archive chunks fetched", str(report.chunks_done))
    rate = f" ({report.published / report.seconds:,.0f}/s)" if report.seconds else ""
    table.add_row("hourly observations published", f"{report.published}{rate}")
    table.add_row("hours the archive did not have (not published)", str(report.rejected_hours))
    table.add_row("observations not delivered to Kafka", str(report.undelivered))
    if result is not None:
        evaluations = result.get_asset_check_evaluations()
        failed = sorted({f"{e.check_name} {e.partition}" for e in evaluations if not e.passed})
        table.add_row("Dagster run", f"{result.run_id[:8]} {'succeeded' if result.success else 'FAILED'}")
        table.add_row("days with check results", str(len({e.partition for e in evaluations if e.partition})))
        table.add_row("check results passed / failed", f"{sum(e.passed for e in evaluations)} / {len(failed)}")
        for item in failed[:10]:
            table.add_row("  failed", item)
    console.print(table)
    for city, error in report.failed.items():
        console.print(f"[red]{city}:[/red] {error}")
