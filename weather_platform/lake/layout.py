"""Where every object of the lake lives: one place derives keys from data coordinates (docs/DESIGN.md §4.2, §4.3).

Bronze objects are named after the Kafka records they hold — topic, partition, first and last offset — inside
the folder of the records' event day, so a replay of the same records rewrites the same object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

BRONZE_PREFIX = "weather"
SILVER_DATASETS = ("weather_cleaned", "weather_daily_agg", "weather_hourly_agg")
_BRONZE_KEY = re.compile(
    r"^weather/year=(\d{4})/month=(\d{2})/day=(\d{2})/(?P<topic>.+)-p(?P<partition>\d+)-(?P<first>\d{20})-(?P<last>\d{20})\.parquet$"
)


def day_path(day: date) -> str:
    return f"year={day:%Y}/month={day:%m}/day={day:%d}"


def bronze_day_prefix(day: date) -> str:
    return f"{BRONZE_PREFIX}/{day_path(day)}/"


@dataclass(frozen=True)
class BronzeObject:
    day: date
    topic: str
    partition: int
    first_offset: int
    last_offset: int

    @property
    def key(self) -> str:
        return (
            f"{bronze_day_prefix(self.day)}{self.topic}-p{self.partition}-"
            f"{self.first_offset:020d}-{self.last_offset:020d}.parquet"
        )

    @classmethod
    def parse(cls, key: str) -> BronzeObject | None:
        """The coordinates in a bronze key, or None for a key that is not a bronze object."""
        match = _BRONZE_KEY.match(key)
        if match is None:
            return None
        year, month, day = (int(g) for g in match.groups()[:3])
        return cls(
            date(year, month, day),
            match["topic"],
            int(match["partition"]),
            int(match["first"]),
            int(match["last"]),
        )


def s3a_url(bucket: str, key: str = "") -> str:
    return f"s3a://{bucket}/{key}"


def bronze_day_url(bucket: str, day: date) -> str:
    return s3a_url(bucket, bronze_day_prefix(day))


def silver_root_url(bucket: str, dataset: str) -> str:
    """The table root; Spark writes `year=/month=/day=` partitions below it."""
    if dataset not in SILVER_DATASETS:
        raise ValueError(f"unknown silver dataset {dataset!r}; expected one of {SILVER_DATASETS}")
    return s3a_url(bucket, f"{dataset}/")


def silver_day_prefix(dataset: str, day: date) -> str:
    return f"{dataset}/{day_path(day)}/"


def silver_day_url(bucket: str, dataset: str, day: date) -> str:
    """The folder holding exactly one day of a silver dataset: what a run of that day replaces."""
    return silver_root_url(bucket, dataset) + day_path(day) + "/"
