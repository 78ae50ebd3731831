"""History from the Dagster UI: `history_fetch` publishes a past range from Open-Meteo's archive (the range and the
cities as run config), and on its success `history_fetched` launches `history_backfill` over that range, the
run `weather-platform backfill` launches too."""

from datetime import date

import dagster as dg
from pydantic import Field

from weather_platform.assets.partitions import DAILY_START
from weather_platform.automation.jobs import RUN_TIMEOUT_TAGS, history_job
from weather_platform.history import month_chunks, parse_span, publish_range, range_tags
from weather_platform.resources import KafkaResource, WeatherApiResource

FETCH_OP = "publish_archive"


class HistoryRange(dg.Config):
    start: str = Field(description="first UTC day, YYYY-MM-DD")
    end: str = Field(description="last UTC day (inclusive), YYYY-MM-DD")
    cities: list[str] = Field(
        default_factory=list,
        description="WEATHER_CITIES entries (`City,CC` or `City,CC@lat,lon`); empty: WEATHER_CITIES",
    )


@dg.op(
    name=FETCH_OP,
    description="Fetches the range's hourly archive per city and month and publishes every hour to Kafka; a city "
    "that fails is reported and the others still arrive.",
)
def publish_archive(
    context: dg.OpExecutionContext, config: HistoryRange, weather_api: WeatherApiResource, kafka: KafkaResource
) -> dg.Output[None]:
    start, end = parse_span(config.start, config.end, DAILY_START)
    chunks = month_chunks(config.cities or weather_api.city_list, start, end)
    done = 0

    def progress(chunk: object, sent: int) -> None:
        nonlocal done
        done += 1
        context.log.info(f"[{done}/{len(chunks)}] {chunk}: {sent} hourly observations published")

    report = publish_range(weather_api, kafka, chunks, progress)
    for city, error in report.failed.items():
        context.log.error(f"{city}: {error}")
    metadata: dict[str, dg.RawMetadataValue] = {
        "chunks_fetched": report.chunks_done,
        "published": report.published,
        "hours_not_in_archive": report.rejected_hours,
        "undelivered": report.undelivered,
        "failed_cities": ", ".join(report.failed) or "none",
    }
    if not report.published or report.undelivered:
        raise dg.Failure(description=f"{start} … {end}: nothing to backfill was delivered", metadata=metadata)
    return dg.Output(None, metadata=metadata)


@dg.job(
    description="Publishes a past range of hourly history from Open-Meteo's archive to Kafka (config: start, end, "
    "cities); on success the `history_fetched` sensor launches `history_backfill` over the range.",
    tags=RUN_TIMEOUT_TAGS,
)
def history_fetch() -> None:
    publish_archive()


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[history_fetch],
    request_job=history_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After a successful `history_fetch`, launches `history_backfill` (drain, bronze, silver, gold) over "
    "its range as one run.",
)
def history_fetched(context: dg.RunStatusSensorContext) -> dg.RunRequest:
    config = HistoryRange(**context.dagster_run.run_config["ops"][FETCH_OP]["config"])  # type: ignore[index]
    start, end = date.fromisoformat(config.start), date.fromisoformat(config.end)
    return dg.RunRequest(run_key=context.dagster_run.run_id, tags=range_tags(start, end))
