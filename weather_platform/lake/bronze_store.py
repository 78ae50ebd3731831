"""Reading the bronze layer back: one day's objects, rows and schema, for checks, metadata and silver."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from weather_platform.lake.layout import bronze_day_prefix


def list_day_objects(s3: Any, bucket: str, day: date) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=bronze_day_prefix(day))
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []) if o["Key"].endswith(".parquet"))


def day_bytes(s3: Any, bucket: str, day: date) -> int:
    """Stored size of one day of bronze (monitoring metadata)."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=bronze_day_prefix(day))
    return sum(int(o["Size"]) for page in pages for o in page.get("Contents", []))


def read_object(s3: Any, bucket: str, key: str, columns: list[str] | None = None) -> pa.Table:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return pq.read_table(io.BytesIO(body), columns=columns)


def read_day(s3: Any, bucket: str, day: date, columns: list[str] | None = None) -> pa.Table | None:
    """All rows of one event day, or None when the day has no object."""
    tables = [read_object(s3, bucket, key, columns) for key in list_day_objects(s3, bucket, day)]
    return pa.concat_tables(tables, promote_options="permissive") if tables else None


def day_row_count(s3: Any, bucket: str, day: date) -> int:
    table = read_day(s3, bucket, day, columns=["kafka_offset"])
    return 0 if table is None else table.num_rows


def missing_columns(table: pa.Table, required: list[str]) -> list[str]:
    return [name for name in required if name not in table.column_names]


def duplicate_coordinates(table: pa.Table) -> int:
    """Rows beyond the first for each (kafka_partition, kafka_offset): 0 when every record is there once."""
    if table.num_rows == 0:
        return 0
    distinct = table.group_by(["kafka_partition", "kafka_offset"]).aggregate([]).num_rows
    return table.num_rows - distinct
