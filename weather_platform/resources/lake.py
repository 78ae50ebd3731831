"""The lake's buckets on any S3 API, through dagster-aws's S3Resource."""

from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource
from pyarrow import fs

from weather_platform.lake.silver_reader import arrow_s3


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
