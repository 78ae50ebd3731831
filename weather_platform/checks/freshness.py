"""Freshness of gold: the age of the newest observation (WARN over 2 h, ERROR over 6 h), evaluated on a schedule
of its own, so a stalled pipeline is noticed even when nothing runs. The age of the newest *record* is the rule:
a backfill of an old day does not make the data look fresh."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from weather_platform.assets.gold import gold_weather_detailed
from weather_platform.resources import PostgresResource
from weather_platform.warehouse import queries

FRESHNESS_WARN = timedelta(hours=2)
FRESHNESS_ERROR = timedelta(hours=6)


@dg.asset_check(
    asset=gold_weather_detailed,
    name="freshness",
    description=f"the newest observation in gold is younger than {FRESHNESS_WARN} (WARN) / {FRESHNESS_ERROR} (ERROR)",
)
def gold_freshness(postgres: PostgresResource) -> dg.AssetCheckResult:
    now = datetime.now(UTC)
    with postgres.connect() as conn:
        age = queries.newest_observation_age(conn, now)
        failed_runs = queries.failed_runs_since(conn, now - timedelta(days=1))
    if age is None:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"newest": "no rows", "failed_runs_last_24h": failed_runs},
        )
    severity = dg.AssetCheckSeverity.ERROR if age > FRESHNESS_ERROR else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(
        passed=age <= FRESHNESS_WARN,
        severity=severity,
        metadata={
            "age_minutes": round(age.total_seconds() / 60, 1),
            "failed_runs_last_24h": failed_runs,
            "dagster/last_updated_timestamp": dg.MetadataValue.timestamp(now - age),
        },
    )
