"""The retention job: bronze objects > 30 days, silver > 90, gold rows > 365; a dry run lists what would go."""

from datetime import UTC, datetime

import dagster as dg

from weather_platform.lake import retention as lake_retention
from weather_platform.resources import LakeResource, PostgresResource
from weather_platform.warehouse import retention as gold_retention


class RetentionConfig(dg.Config):
    dry_run: bool = True
    bronze_days: int = 30
    silver_days: int = 90
    gold_days: int = 365


@dg.op(description="Plans retention for every layer and, unless dry_run, applies the plan.")
def apply_retention(
    context: dg.OpExecutionContext, config: RetentionConfig, lake: LakeResource, postgres: PostgresResource
) -> dg.Output[dict[str, int]]:
    today = datetime.now(UTC).date()
    s3 = lake.client()
    bronze = lake_retention.plan_bronze(s3, lake.bronze_bucket, today, config.bronze_days)
    silver = lake_retention.plan_silver(s3, lake.silver_bucket, today, config.silver_days)
    cutoff = gold_retention.gold_cutoff(today, config.gold_days)
    postgres.require_current_schema()
    with postgres.connect(autocommit=True) as conn:
        gold = gold_retention.plan_gold(conn, cutoff)
        verb = "would delete" if config.dry_run else "deleted"
        if not config.dry_run:
            lake_retention.apply(s3, bronze)
            lake_retention.apply(s3, silver)
            gold = gold_retention.apply_gold(conn, cutoff)
    summary = {
        "bronze_objects": len(bronze.expired),
        "silver_objects": len(silver.expired),
        **{f"{table}_rows": rows for table, rows in gold.items()},
    }
    context.log.info(
        f"retention ({'dry run' if config.dry_run else 'applied'}): {verb} {summary}; bronze days "
        f"{bronze.days or 'none'} (before {bronze.cutoff}), silver days {silver.days or 'none'} (before "
        f"{silver.cutoff}), gold before {cutoff}"
    )
    return dg.Output(
        summary,
        metadata={
            "dry_run": config.dry_run,
            **summary,
            "bronze_cutoff": bronze.cutoff.isoformat(),
            "silver_cutoff": silver.cutoff.isoformat(),
            "gold_cutoff": cutoff.isoformat(),
            "bronze_days": ", ".join(bronze.days) or "none",
            "silver_days": ", ".join(silver.days) or "none",
        },
    )


@dg.job(description="Deletes data past its retention in every layer (config dry_run: true lists it only).")
def retention_job() -> None:
    apply_retention()


weekly_retention = dg.ScheduleDefinition(
    name="weekly_retention",
    job=retention_job,
    cron_schedule="0 3 * * 0",
    execution_timezone="UTC",
    run_config=dg.RunConfig(ops={"apply_retention": RetentionConfig(dry_run=False)}),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Sundays 03:00 UTC: apply retention (bronze 30 d, silver 90 d, gold 365 d).",
)
