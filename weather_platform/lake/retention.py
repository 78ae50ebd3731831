"""Retention of the lake: objects whose day folder is older than the layer's limit (bronze 30 d, silver 90 d).

The day comes from the object's key (`year=/month=/day=`), never from its modification time, so a replayed old
day is still recognised as old. A plan is computed first (the dry run shows it), then applied as is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from weather_platform.lake.layout import BRONZE_PREFIX, SILVER_DATASETS

_DAY = re.compile(r"(?:^|/)year=(\d{4})/month=(\d{1,2})/day=(\d{1,2})/")


def key_day(key: str) -> date | None:
    match = _DAY.search(key)
    return date(int(match[1]), int(match[2]), int(match[3])) if match else None


@dataclass
class LayerPlan:
    bucket: str
    cutoff: date  # objects of days before this go
    expired: list[str] = field(default_factory=list)
    kept: int = 0

    @property
    def days(self) -> list[str]:
        return sorted({d.isoformat() for k in self.expired if (d := key_day(k)) is not None})


def plan_layer(s3: Any, bucket: str, prefixes: Iterable[str], today: date, keep_days: int) -> LayerPlan:
    plan = LayerPlan(bucket, today - timedelta(days=keep_days))
    for prefix in prefixes:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                day = key_day(obj["Key"])
                if day is not None and day < plan.cutoff:
                    plan.expired.append(obj["Key"])
                else:
                    plan.kept += 1
    return plan


def plan_bronze(s3: Any, bucket: str, today: date, keep_days: int = 30) -> LayerPlan:
    return plan_layer(s3, bucket, [f"{BRONZE_PREFIX}/"], today, keep_days)


def plan_silver(s3: Any, bucket: str, today: date, keep_days: int = 90) -> LayerPlan:
    return plan_layer(s3, bucket, [f"{dataset}/" for dataset in SILVER_DATASETS], today, keep_days)


def apply(s3: Any, plan: LayerPlan) -> int:
    """Delete the planned objects (1,000 per request, the S3 limit); returns how many went."""
    deleted = 0
    for start in range(0, len(plan.expired), 1000):
        batch = plan.expired[start : start + 1000]
        response = s3.delete_objects(Bucket=plan.bucket, Delete={"Objects": [{"Key": k} for k in batch]})
        errors = response.get("Errors", [])
        if errors:
            raise RuntimeError(f"{len(errors)} objects of s3://{plan.bucket} could not be deleted, first: {errors[0]}")
        deleted += len(batch)
    return deleted
