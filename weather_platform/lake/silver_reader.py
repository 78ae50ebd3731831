"""Silver days read with Arrow straight from S3 — the gold load needs no Spark session for that."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
from pyarrow import fs

from weather_platform.lake.layout import SILVER_DATASETS, silver_day_prefix
from weather_platform.service_errors import Endpoints, naming_services

CLEANED = SILVER_DATASETS[0]


def arrow_s3(endpoint_url: str | None, access_key: str | None, secret_key: str | None, region: str) -> fs.S3FileSystem:
    """pyarrow's S3 client for any S3 API (endpoint override and scheme from the URL, as boto3 takes it)."""
    options: dict[str, object] = {"region": region, "access_key": access_key, "secret_key": secret_key}
    if endpoint_url:
        scheme, _, rest = endpoint_url.partition("://")
        options |= {"endpoint_override": rest.rstrip("/"), "scheme": scheme}
    return fs.S3FileSystem(**options)


def read_silver_day(s3: fs.S3FileSystem, bucket: str, dataset: str, day: date) -> pa.Table | None:
    """The day's rows with year, month and day, or None when silver has not written that day."""
    import pyarrow.dataset as ds  # here: it imports pandas (~40 MB), which the code server does not need

    files = _day_files(s3, bucket, dataset, day)
    if files is None:
        return None
    table = ds.dataset(files, filesystem=s3, format="parquet").to_table()
    if dataset != CLEANED:  # the aggregates carry their `date`
        return table
    # The cleaned rows' year, month and day are the folder's names (Hive partitioning), not columns of the files:
    # given back as Spark reads them.
    for name, value in (("year", day.year), ("month", day.month), ("day", day.day)):
        if name not in table.column_names:
            table = table.append_column(name, pa.array([value] * table.num_rows, pa.int32()))
    return table


def _day_files(s3: fs.S3FileSystem, bucket: str, dataset: str, day: date) -> list[str] | None:
    """The Parquet files of the day's folder, or None when silver has not written that day."""
    path = f"{bucket}/{silver_day_prefix(dataset, day)}".rstrip("/")
    if s3.get_file_info(path).type != fs.FileType.Directory:
        return None
    files = [
        info.path
        for info in s3.get_file_info(fs.FileSelector(path))
        if info.type == fs.FileType.File and info.path.endswith(".parquet")
    ]
    return files or None


class SilverDays:
    """One silver dataset's days, each read when it is asked for: a year of rows never sits in memory at once.

    What a gold asset gets as its input. Reads name S3 when it is unreachable.
    """

    def __init__(self, s3: fs.S3FileSystem, bucket: str, dataset: str, days: list[date], endpoint: str) -> None:
        self.dataset, self.days = dataset, days
        self._s3, self._bucket, self._endpoints = s3, bucket, Endpoints(s3=endpoint)

    def read(self, day: date) -> pa.Table | None:
        """The day's rows (see read_silver_day), None when silver has no such day."""
        with naming_services(self._endpoints):
            return read_silver_day(self._s3, self._bucket, self.dataset, day)
