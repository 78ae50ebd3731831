"""Pinned versions of every service artifact the local stack provisions; they must match each other.

pyspark 4.3.0 bundles Hadoop 3.5.0, so S3A needs hadoop-aws 3.5.0, which is built against AWS SDK v2 2.35.4.
Kafka 4.x logs through slf4j 1.7 and ships no backend: the log4j2 jars are added explicitly.
"""

KAFKA = "org.apache.kafka:kafka_2.13:4.3.1"
LOG4J = "2.25.2"
KAFKA_ARTIFACTS = (
    KAFKA,
    f"org.apache.logging.log4j:log4j-slf4j-impl:{LOG4J}",
    f"org.apache.logging.log4j:log4j-core:{LOG4J}",
    f"org.apache.logging.log4j:log4j-api:{LOG4J}",
)

HADOOP_AWS = "org.apache.hadoop:hadoop-aws:3.5.0"
AWS_SDK_BUNDLE = "software.amazon.awssdk:bundle:2.35.4"
POSTGRES_JDBC = "org.postgresql:postgresql:42.7.8"
SPARK_ARTIFACTS = (HADOOP_AWS, AWS_SDK_BUNDLE, POSTGRES_JDBC)

# MinIO publishes no semver tags: a pseudo-version pins one commit (the last on its main branch).
MINIO_MODULE = "github.com/minio/minio"
MINIO_VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c"
