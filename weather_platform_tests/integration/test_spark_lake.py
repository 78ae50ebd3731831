"""A real Spark session writes Parquet to s3a:// on the stack's S3 server and a table to PostgreSQL over JDBC."""

from __future__ import annotations

import psycopg
from psycopg import sql
from pyspark.sql import SparkSession

from weather_platform.lake.spark_config import jdbc_url
from weather_platform.settings import Settings

ROWS = [("Paris", "FR", 12.5), ("Oslo", "NO", -3.25), ("Lima", "PE", 19.0)]


def test_parquet_roundtrip_over_s3a(spark: SparkSession, settings: Settings, unique: str) -> None:
    path = f"s3a://{settings.silver_bucket}/_it/{unique}"
    frame = spark.createDataFrame(ROWS, "city string, country string, temperature double")
    frame.write.mode("overwrite").parquet(path)
    try:
        back = spark.read.parquet(path)
        assert sorted(tuple(r) for r in back.collect()) == sorted(ROWS)
    finally:
        jvm_path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(path)  # type: ignore[union-attr]
        jvm_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).delete(jvm_path, True)  # type: ignore[union-attr]


def test_table_to_postgres_over_jdbc(spark: SparkSession, settings: Settings, unique: str) -> None:
    table = f"it_spark_{unique}"
    frame = spark.createDataFrame(ROWS, "city string, country string, temperature double")
    frame.write.jdbc(
        jdbc_url(settings),
        table,
        mode="overwrite",
        properties={
            "user": settings.postgres_user,
            "password": settings.secret("postgres_password"),
            "driver": "org.postgresql.Driver",
        },
    )
    with psycopg.connect(**settings.postgres_connect_kwargs(), autocommit=True) as conn:
        try:
            rows = conn.execute(sql.SQL("SELECT city, country, temperature FROM {}").format(sql.Identifier(table)))
            assert sorted(rows.fetchall()) == sorted(ROWS)
        finally:
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))
