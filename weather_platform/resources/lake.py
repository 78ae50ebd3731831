"""The lake's buckets on any S3 API, through dagster-aws's S3Resource."""

from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource


class LakeResource(dg.ConfigurableResource):
    s3: dg.ResourceDependency[S3Resource]
    bronze_bucket: str = "bronze-layer"
    silver_bucket: str = "silver-layer"

    def client(self) -> Any:
        return self.s3.get_client()
