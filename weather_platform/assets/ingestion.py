"""`ingestion/weather_events`: one polling round of the weather API, published to Kafka."""

import dagster as dg

from weather_platform.resources import KafkaResource, WeatherApiResource
from weather_platform.streaming.producer import ingest_round


@dg.asset(
    key=["ingestion", "weather_events"],
    group_name="ingestion",
    kinds={"python", "kafka"},
    description="Polls the weather API once for every configured city and publishes each observation to Kafka "
    "(acks=all, idempotent). A failing city is reported and the others still go through.",
)
def weather_events(
    context: dg.AssetExecutionContext, weather_api: WeatherApiResource, kafka: KafkaResource
) -> dg.MaterializeResult:
    with weather_api.client() as client:
        producer = kafka.producer()
        try:
            report = ingest_round(client, producer, kafka.topic, weather_api.city_list)
        finally:
            producer.close()
    rows = "\n".join(
        f"| {c.city} | {'sent' if c.sent else 'failed: ' + (c.error or '')} | {c.attempts} | {c.latency_seconds:.3f} |"
        for c in report.cities
    )
    for city in report.cities:
        if not city.sent:
            context.log.warning(f"{city.city}: {city.error}")
    if report.sent == 0:
        raise dg.Failure(
            description=f"no observation could be fetched and published ({report.failed} cities failed)",
            metadata={
                "cities": dg.MetadataValue.md("| city | result | attempts | latency s |\n|---|---|---|---|\n" + rows)
            },
        )
    return dg.MaterializeResult(
        metadata={
            "sent": report.sent,
            "failed": report.failed,
            "seconds": round(report.seconds, 3),
            "max_latency_seconds": round(max(c.latency_seconds for c in report.cities), 3),
            "cities": dg.MetadataValue.md("| city | result | attempts | latency s |\n|---|---|---|---|\n" + rows),
        }
    )
