"""Reading the bronze layer back: one day's objects, rows and schema, for checks, metadata and silver."""

from __future__ import annotations

import io
import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from weather_platform.lake.layout import BronzeObject, bronze_day_prefix


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


def missing_columns(table: pa.Table, required: list[str]) -> list[str]:
    return [name for name in required if name not in table.column_names]


def duplicate_coordinates(table: pa.Table) -> int:
    """Rows beyond the first for each (kafka_partition, kafka_offset): 0 when every record is there once."""
    if table.num_rows == 0:
        return 0
    distinct = table.group_by(["kafka_partition", "kafka_offset"]).aggregate([]).num_rows
    return table.num_rows - distinct


@dataclass(frozen=True)
class RepairReport:
    removed: list[str]
    unrepairable: list[str]  # (topic, partition) groups whose objects overlap in a way no deletion can fix


def repair_day(s3: Any, bucket: str, day: date, committed: dict[tuple[str, int], int]) -> RepairReport:
    """Remove bronze objects whose records another object of the day already holds (a zombie writer's).

    A writer that lost its partitions while paused can finish an object its successor also wrote, under a
    different offset range: every record is then there twice. Within one day folder and Kafka partition each
    object holds the day's records of one contiguous offset range, so the objects are intervals over the day's
    offsets; this keeps a set of pairwise disjoint objects that holds every offset once and deletes the rest.
    Only objects wholly below the partition's committed offset are considered: later ones may belong to a
    batch still being written. Objects hold the same rows for the same offsets (bronze is derived from the
    Kafka record alone), so whichever copy is kept, the day's content is unchanged.
    """
    groups: dict[tuple[str, int], list[BronzeObject]] = defaultdict(list)
    for key in list_day_objects(s3, bucket, day):
        obj = BronzeObject.parse(key)
        if obj is not None and obj.last_offset < committed.get((obj.topic, obj.partition), -1):
            groups[(obj.topic, obj.partition)].append(obj)
    removed: list[str] = []
    unrepairable: list[str] = []
    for (topic, partition), objects in sorted(groups.items()):
        objects.sort(key=lambda o: (o.first_offset, o.last_offset))
        if all(a.last_offset < b.first_offset for a, b in itertools.pairwise(objects)):
            continue  # the usual case: no overlap, nothing to read
        offsets = {o.key: read_object(s3, bucket, o.key, ["kafka_offset"])["kafka_offset"].to_pylist() for o in objects}
        keep = disjoint_cover(offsets)
        if keep is None:
            unrepairable.append(f"{topic}/{partition}")
            continue
        extra = sorted(set(offsets) - keep)
        for start in range(0, len(extra), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in extra[start : start + 1000]]})
        removed.extend(extra)
    return RepairReport(removed, unrepairable)


def disjoint_cover(offsets: dict[str, list[int]]) -> set[str] | None:
    """Keys of the fewest objects that hold every offset exactly once, or None when no such set exists.

    Each object must hold a contiguous run of the sorted union of offsets (true of bronze objects); the runs
    are then edges from their first to one past their last index, and the answer is a shortest path from 0 to
    the end (ties go to the lexically smallest keys, so the choice is reproducible).
    """
    points = sorted({o for values in offsets.values() for o in values})
    index = {offset: i for i, offset in enumerate(points)}
    edges: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for key, values in offsets.items():
        if not values:
            continue
        first, last = index[min(values)], index[max(values)]
        if len(set(values)) != len(values) or last - first + 1 != len(values):
            return None  # not a contiguous run: not a bronze object as this writer makes them
        edges[first].append((last + 1, key))
    best: dict[int, tuple[int, tuple[str, ...]]] = {0: (0, ())}
    for start in range(len(points)):
        if start not in best:
            continue
        count, path = best[start]
        for end, key in edges[start]:
            candidate = (count + 1, tuple(sorted((*path, key))))
            if end not in best or candidate < best[end]:
                best[end] = candidate
    found = best.get(len(points))
    return set(found[1]) if found is not None else None
