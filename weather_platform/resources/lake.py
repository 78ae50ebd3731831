"""The lake's buckets on any S3 API."""

from typing import Any

import dagster as dg
from pyarrow import fs

from weather_platform.lake.silver_reader import arrow_s3


class S3Resource(dg.ConfigurableResource):
    """Where the S3 API is and its keys (shown in the UI as EnvVar names), and a boto3 client of it.

    In place of dagster-aws's S3Resource, whose import (its components, boto3 and SQLAlchemy) cost every process
    that imports the definitions (the code server, each run) 0.4-0.5 s and 27 MB; boto3 is imported by the first
    client here."""

    endpoint_url: str | None = None
    region_name: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    max_attempts: int = 3

    def get_client(self) -> Any:
        from weather_platform.connections import s3_client_for

        return s3_client_for(
            self.endpoint_url,
            self.region_name,
            self.aws_access_key_id,
            self.aws_secret_access_key,
            self.max_attempts,
        )


class LakeResource(dg.ConfigurableResource):
    s3: dg.ResourceDependency[S3Resource]
    bronze_bucket: str = "bronze-layer"
    silver_bucket: str = "silver-layer"

    @property
    def s3_location(self) -> str:
        """Where the lake is, for messages (never credentials)."""
        return self.s3.endpoint_url or "AWS S3"

    def client(self) -> Any:
        return self.s3.get_client()

    def arrow_fs(self) -> fs.S3FileSystem:
        return arrow_s3(
            self.s3.endpoint_url,
            self.s3.aws_access_key_id,
            self.s3.aws_secret_access_key,
            self.s3.region_name or "us-east-1",
        )
