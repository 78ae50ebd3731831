"""The lake's buckets on any S3 API, through dagster-aws's S3Resource."""

from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource
from pyarrow import fs

from weather_platform.lake.silver_reader import arrow_s3
from weather_platform.settings import Settings


class LakeResource(dg.ConfigurableResource):
    s3: dg.ResourceDependency[S3Resource]
    bronze_bucket: str = "bronze-layer"
    silver_bucket: str = "silver-layer"

    def layout(self) -> Settings:
        """The buckets as the lake's functions take them (a Settings built from these fields alone)."""
        return Settings.model_construct(bronze_bucket=self.bronze_bucket, silver_bucket=self.silver_bucket)

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
