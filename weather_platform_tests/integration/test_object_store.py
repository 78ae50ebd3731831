"""The stack's S3 server through the two clients the platform uses: the lake resource's S3Resource and pyarrow."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import fs

from weather_platform.resources import S3Resource
from weather_platform.settings import Settings


def _s3_resource(settings: Settings) -> S3Resource:
    return S3Resource(
        endpoint_url=settings.s3_endpoint_url,
        aws_access_key_id=settings.secret("s3_access_key_id"),
        aws_secret_access_key=settings.secret("s3_secret_access_key"),
        region_name=settings.s3_region,
    )


def test_buckets_exist(settings: Settings) -> None:
    names = {b["Name"] for b in _s3_resource(settings).get_client().list_buckets()["Buckets"]}
    assert {settings.bronze_bucket, settings.silver_bucket} <= names


def test_put_list_get_with_dagster_s3_resource(settings: Settings, unique: str) -> None:
    client = _s3_resource(settings).get_client()
    key = f"_it/{unique}/hello.txt"
    client.put_object(Bucket=settings.bronze_bucket, Key=key, Body=b"bonjour")
    try:
        listed = client.list_objects_v2(Bucket=settings.bronze_bucket, Prefix=f"_it/{unique}/")
        assert [o["Key"] for o in listed["Contents"]] == [key]
        assert client.get_object(Bucket=settings.bronze_bucket, Key=key)["Body"].read() == b"bonjour"
    finally:
        client.delete_object(Bucket=settings.bronze_bucket, Key=key)


def test_parquet_roundtrip_with_pyarrow_s3filesystem(settings: Settings, unique: str) -> None:
    assert settings.s3_endpoint_url
    scheme, _, endpoint = settings.s3_endpoint_url.partition("://")
    s3 = fs.S3FileSystem(
        access_key=settings.secret("s3_access_key_id"),
        secret_key=settings.secret("s3_secret_access_key"),
        endpoint_override=endpoint,
        scheme=scheme,
        region=settings.s3_region,
    )
    path = f"{settings.bronze_bucket}/_it/{unique}/part.parquet"
    table = pa.table({"city": ["Paris", "Oslo"], "temperature": [12.5, -3.0]})
    pq.write_table(table, path, filesystem=s3, compression="snappy")
    try:
        assert [i.path for i in s3.get_file_info(fs.FileSelector(f"{settings.bronze_bucket}/_it/{unique}"))] == [path]
        assert pq.read_table(path, filesystem=s3).equals(table)
    finally:
        s3.delete_file(path)
