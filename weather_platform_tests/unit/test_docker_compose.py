"""docker/: the Compose deployment of the whole platform.

The compose file is resolved and validated by a real Compose implementation — Debian's `docker-compose` (1.29),
whose `config` command needs no Docker engine — with `docker/.env.example` as its env file; the assertions below
read that resolved output. The rest are the rules of the deployment: every service present, healthchecks and
`depends_on` conditions, only the Dagster UI published (on 127.0.0.1), no credential written in the file, the
platform's settings passed under the names of docs/DESIGN.md §3 and read by `Settings` exactly as on the local stack,
and the containers' Dagster instance under the same rules as the local one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from weather_platform.lake.spark_config import s3a_credentials, spark_conf
from weather_platform.settings import Settings
from weather_platform.stack import versions

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
COMPOSE_FILE = DOCKER / "docker-compose.yml"
ENV_EXAMPLE = DOCKER / ".env.example"
DOCKERFILE = DOCKER / "Dockerfile"

# docs/DESIGN.md §3 (contract): the environment variable names of the platform's settings.
DESIGN_SETTINGS = frozenset(
    {
        "OPENWEATHER_API_KEY",
        "WEATHER_API_BASE_URL",
        "WEATHER_CITIES",
        "KAFKA_BOOTSTRAP_SERVERS",
        "KAFKA_TOPIC",
        "KAFKA_DLQ_TOPIC",
        "S3_ENDPOINT_URL",
        "S3_ACCESS_KEY_ID",
        "S3_SECRET_ACCESS_KEY",
        "S3_REGION",
        "BRONZE_BUCKET",
        "SILVER_BUCKET",
        "POSTGRES_HOST",
        "POSTGRES_PORT",
        "POSTGRES_USER",
        "POSTGRES_PASSWORD",
        "POSTGRES_DB",
        "SPARK_MASTER",
        "DAGSTER_HOME",
    }
)
# Platform settings documented in README "Configuration" besides §3: the Dagster instance's database (a Settings
# field) and the failed-run webhook (read by automation/alerts.py).
PLATFORM_EXTRAS = frozenset({"DAGSTER_POSTGRES_DB", "ALERT_WEBHOOK_URL"})
# Settings of `weather-platform serve` (README "Configuration"): the dashboard's container only.
SERVE_SETTINGS = frozenset({"WEATHER_READER_USER", "WEATHER_READER_PASSWORD", "API_HOST", "API_PORT"})
# Infrastructure of our containers, not settings of the platform.
INFRASTRUCTURE = frozenset(
    {
        "SPARK_JARS",  # the image's S3A/JDBC jars, honoured by lake/spark_config.py
        "SPARK_LOCAL_HOSTNAME",  # the name the Spark driver advertises to the executors
        "SPARK_WORKER_CORES",
        "SPARK_WORKER_MEMORY",
        "SPARK_WORKER_DIR",
        "JAVA_HOME",
    }
)

# Python and pip behaviour, set in the image only.
PYTHON_IMAGE_ENV = frozenset(
    {
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONUNBUFFERED",
        "PIP_NO_CACHE_DIR",
        "PIP_DISABLE_PIP_VERSION_CHECK",
        "PIP_ROOT_USER_ACTION",
    }
)

PLATFORM_SERVICES = frozenset(
    {"spark-master", "spark-worker", "simulator", "code-location", "dagster-webserver", "dagster-daemon", "dashboard"}
)
LONG_RUNNING = PLATFORM_SERVICES | {"kafka", "minio", "postgres", "grafana"}
ONE_SHOT = frozenset({"kafka-init", "minio-init", "warehouse-migrate"})

HEALTHY, COMPLETED = "service_healthy", "service_completed_successfully"
EXPECTED_DEPENDS_ON: dict[str, dict[str, str]] = {
    "kafka": {},
    "kafka-init": {"kafka": HEALTHY},
    "minio": {},
    "minio-init": {"minio": HEALTHY},
    "postgres": {},
    "spark-master": {},
    "spark-worker": {"spark-master": HEALTHY},
    "simulator": {},
    "warehouse-migrate": {"postgres": HEALTHY},  # the gold schema's migrations, applied once before the code runs
    "code-location": {
        "kafka-init": COMPLETED,
        "minio-init": COMPLETED,
        "warehouse-migrate": COMPLETED,
        "postgres": HEALTHY,
        "spark-master": HEALTHY,
        "spark-worker": HEALTHY,
        "simulator": HEALTHY,
    },
    "dagster-webserver": {"postgres": HEALTHY, "code-location": HEALTHY},
    "dagster-daemon": {"postgres": HEALTHY, "code-location": HEALTHY},
    "dashboard": {"postgres": HEALTHY},
    "grafana": {"postgres": HEALTHY},
}

# What the code location must receive with .env.example (the bundled services, by their compose names).
BUNDLED_SERVICE_SETTINGS = {
    "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
    "S3_ENDPOINT_URL": "http://minio:9000",
    "POSTGRES_HOST": "postgres",
    "SPARK_MASTER": "spark://spark-master:7077",
    "WEATHER_API_BASE_URL": "http://simulator:8089/data/2.5",
    "DAGSTER_POSTGRES_DB": "dagster",
}

# The secrets of docker/.env: compose must refuse to run without each of them.
REQUIRED_SECRETS = (
    "POSTGRES_ADMIN_PASSWORD",
    "POSTGRES_PASSWORD",
    "WEATHER_READER_PASSWORD",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "GRAFANA_ADMIN_PASSWORD",
)
SECRET_NAME = re.compile(r"PASSWORD|SECRET|KEY")
# A reference to a variable of docker/.env, with at most an error message: `${VAR}`, `${VAR:?message}`. A default
# (`${VAR:-value}`) would be a credential written in the file.
SECRET_REFERENCE = re.compile(r"\$\{[A-Z][A-Z0-9_]*(?::?\?[^}]*)?\}")

INSTALL_HINT = (
    "docker-compose is not on PATH: this test validates docker/docker-compose.yml with a real Compose "
    "implementation, Debian's docker-compose package, which needs no Docker engine. Install it with "
    "`make compose-tool` (as root) or `sudo apt-get install -y docker-compose`."
)


def _run_compose_config(env_file: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    # Only PATH and HOME from our environment: platform variables exported in this shell (the local stack's) would
    # take precedence over the env file in the substitution.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(Path.home()), "LANG": "C.UTF-8"}
    return subprocess.run(
        [exe, "-f", str(COMPOSE_FILE), "--env-file", str(env_file), "config"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    """`docker-compose config` with docker/.env.example: the file as Compose resolves and validates it."""
    proc = _run_compose_config(ENV_EXAMPLE)
    assert proc.returncode == 0, f"docker-compose config failed (exit {proc.returncode}):\n{proc.stderr}"
    config: dict[str, Any] = yaml.safe_load(proc.stdout)
    return config


@pytest.fixture(scope="module")
def services(resolved: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resolved["services"]


def _environment(service: dict[str, Any]) -> dict[str, str | None]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # `KEY=value` entries
        return {k: v for k, _, v in (item.partition("=") for item in env)}
    return {k: (None if v is None else str(v)) for k, v in env.items()}


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):  # the short form has no condition: it waits for nothing but the start
        return dict.fromkeys(deps, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def _port(entry: Any) -> tuple[str, str, int]:
    """(host ip, published port, container port) from either the short (v1) or the long (v2) syntax."""
    if isinstance(entry, dict):
        return str(entry.get("host_ip", "")), str(entry.get("published", "")), int(entry["target"])
    spec = str(entry).split("/")[0]
    parts = spec.rsplit(":", 2)
    if len(parts) == 3:
        return parts[0], parts[1], int(parts[2])
    if len(parts) == 2:
        return "", parts[0], int(parts[1])
    return "", "", int(parts[0])


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path → source (volume name or host path)."""
    mounts = {}
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            mounts[entry["target"]] = entry["source"]
        else:
            source, target = str(entry).split(":")[:2]
            mounts[target] = source
    return mounts


def _env_file_values(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, args = line.partition(" ")
            instructions.append((keyword.upper(), args.strip()))
    return instructions


def _dockerfile_env() -> dict[str, str]:
    env = {}
    for keyword, args in _dockerfile_instructions():
        if keyword == "ENV":
            for key, value in re.findall(r"([A-Z_][A-Z0-9_]*)=(\S+)", args):
                env[key] = value
    return env


def _instance_env_names(node: Any) -> set[str]:
    """Every `{env: NAME}` of a Dagster instance file."""
    if isinstance(node, dict):
        if set(node) == {"env"}:
            return {node["env"]}
        return set().union(*(_instance_env_names(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_instance_env_names(v) for v in node)) if node else set()
    return set()


# ---- the compose file, as Compose resolves it ---------------------------------------------------------------------


def test_every_service_is_defined(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == LONG_RUNNING | ONE_SHOT


def test_long_running_services_have_a_healthcheck_and_restart(services: dict[str, dict[str, Any]]) -> None:
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck") or {}
        assert not check.get("disable"), name
        assert check.get("test") and check["test"] != ["NONE"], f"{name} has no healthcheck"
        assert services[name].get("restart") == "unless-stopped", name
    for name in ONE_SHOT:
        assert services[name].get("restart") == "no", f"{name} runs once and must not be restarted"


def test_depends_on_waits_for_health_and_for_the_init_jobs(services: dict[str, dict[str, Any]]) -> None:
    for name, expected in EXPECTED_DEPENDS_ON.items():
        assert _depends_on(services[name]) == expected, name


def test_only_the_uis_are_published_on_loopback(services: dict[str, dict[str, Any]]) -> None:
    published = {name: [_port(p) for p in s.get("ports") or []] for name, s in services.items() if s.get("ports")}
    assert published == {
        "dagster-webserver": [("127.0.0.1", "3000", 3000)],
        "dashboard": [("127.0.0.1", "8080", 8080)],
        "grafana": [("127.0.0.1", "3001", 3000)],
    }
    for name, service in services.items():
        assert service.get("network_mode") != "host", name


def test_data_lives_in_named_volumes(resolved: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    assert set(resolved["volumes"]) == {"kafka-data", "minio-data", "postgres-data", "dagster-storage", "grafana-data"}
    assert _mounts(services["grafana"])["/var/lib/grafana"] == "grafana-data"
    assert _mounts(services["kafka"])["/var/lib/kafka/data"] == "kafka-data"
    assert _mounts(services["minio"])["/data"] == "minio-data"
    # PostgreSQL 18 images keep PGDATA in /var/lib/postgresql/18/docker: the volume belongs on the parent.
    assert _mounts(services["postgres"])["/var/lib/postgresql"] == "postgres-data"
    assert Path(_mounts(services["postgres"])["/docker-entrypoint-initdb.d"]) == DOCKER / "postgres-init"
    for name in ("code-location", "dagster-webserver", "dagster-daemon"):
        assert _mounts(services[name])["/opt/dagster/home/storage"] == "dagster-storage", name


def test_our_containers_share_one_image_built_from_the_dockerfile(services: dict[str, dict[str, Any]]) -> None:
    build = services["code-location"]["build"]
    assert Path(build["context"]) == REPO
    assert build["dockerfile"] == "docker/Dockerfile"
    image = services["code-location"]["image"]
    assert {name for name, s in services.items() if s.get("image") == image} == PLATFORM_SERVICES | {
        "warehouse-migrate"
    }


def test_our_containers_receive_design_section_3_names_only(services: dict[str, dict[str, Any]]) -> None:
    allowed = DESIGN_SETTINGS | PLATFORM_EXTRAS | SERVE_SETTINGS | INFRASTRUCTURE
    for name in PLATFORM_SERVICES | {"warehouse-migrate"}:
        unknown = set(_environment(services[name])) - allowed
        assert not unknown, f"{name} receives variables outside docs/DESIGN.md §3: {sorted(unknown)}"
    assert set(_dockerfile_env()) - PYTHON_IMAGE_ENV <= allowed


def test_the_code_location_gets_every_setting_pointing_at_the_bundled_services(
    services: dict[str, dict[str, Any]],
) -> None:
    env = _environment(services["code-location"])
    settings_names = {n for n in DESIGN_SETTINGS | PLATFORM_EXTRAS if n.lower() in Settings.model_fields}
    assert settings_names <= set(env), f"missing: {sorted(settings_names - set(env))}"
    for name, value in BUNDLED_SERVICE_SETTINGS.items():
        assert env[name] == value, name
    # ...and those addresses are where the bundled services listen.
    assert "PLAINTEXT://kafka:9092" in _environment(services["kafka"])["KAFKA_ADVERTISED_LISTENERS"]
    assert services["simulator"]["command"][-2:] == ["--port", "8089"]
    master = services["spark-master"]["command"]
    assert master[master.index("--host") + 1 : master.index("--port") + 2] == ["spark-master", "--port", "7077"]
    assert "spark://spark-master:7077" in services["spark-worker"]["command"]


def test_the_dagster_instance_gets_its_storage_settings(services: dict[str, dict[str, Any]]) -> None:
    needed = _instance_env_names(yaml.safe_load((DOCKER / "dagster.yaml").read_text()))
    assert needed == {"POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "DAGSTER_POSTGRES_DB"}
    for name in ("code-location", "dagster-webserver", "dagster-daemon"):
        env = _environment(services[name])
        assert all(env.get(var) for var in needed), f"{name} lacks some of {sorted(needed)}"


def test_the_init_jobs_create_the_topics_buckets_databases_and_roles(services: dict[str, dict[str, Any]]) -> None:
    kafka_init = " ".join(services["kafka-init"]["command"])
    assert "for topic in weather-data weather-data-dlq" in kafka_init
    assert "--create --if-not-exists" in kafka_init and "--partitions 3" in kafka_init
    minio_init = " ".join(services["minio-init"]["command"])
    assert "lake/bronze-layer" in minio_init and "lake/silver-layer" in minio_init
    postgres_env = _environment(services["postgres"])
    assert postgres_env["WEATHER_DW_DB"] == "weather_dw" and postgres_env["DAGSTER_POSTGRES_DB"] == "dagster"
    assert postgres_env["WEATHER_WRITER"] == "weather_writer"
    script = (DOCKER / "postgres-init" / "10-weather-databases.sh").read_text()
    for statement in (
        'CREATE DATABASE :"dw_db" OWNER :"writer"',
        'CREATE DATABASE :"dagster_db" OWNER :"writer"',
        'ALTER ROLE :"reader" SET default_transaction_read_only = on',
        'REVOKE ALL ON DATABASE :"dw_db" FROM PUBLIC',
        'REVOKE ALL ON DATABASE :"dagster_db" FROM PUBLIC',
        "ALTER ROLE :\"reader\" SET statement_timeout = '300s'",
        "format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', p.oid::regprocedure)",
    ):
        assert statement in script
    # the reader's table grants are the migrations' alone (explicit, per documented object)
    assert "DEFAULT PRIVILEGES" not in script and "ON ALL TABLES" not in script
    assert os.access(DOCKER / "postgres-init" / "10-weather-databases.sh", os.X_OK)


def test_the_kafka_image_is_the_local_stacks_version(services: dict[str, dict[str, Any]]) -> None:
    kafka_version = versions.KAFKA.rsplit(":", 1)[1]
    assert services["kafka"]["image"] == services["kafka-init"]["image"] == f"apache/kafka:{kafka_version}"
    assert services["postgres"]["image"] == "postgres:18"


@pytest.mark.parametrize("secret", REQUIRED_SECRETS)
def test_compose_refuses_to_run_without_a_secret(secret: str, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    lines = [f"{k}={v}" for k, v in _env_file_values(ENV_EXAMPLE).items() if k != secret]
    env_file.write_text("\n".join(lines) + "\n")
    proc = _run_compose_config(env_file)
    assert proc.returncode != 0
    assert secret in proc.stderr


# ---- no credential in the file ------------------------------------------------------------------------------------


def test_no_literal_secret_in_the_compose_file() -> None:
    text = COMPOSE_FILE.read_text()
    raw = yaml.safe_load(text)
    environments = [s.get("environment") for s in raw["services"].values()]
    environments += [v for k, v in raw.items() if k.startswith("x-") and isinstance(v, dict)]
    for env in environments:
        for name, value in _environment({"environment": env}).items():
            if SECRET_NAME.search(name):
                assert value is None or SECRET_REFERENCE.fullmatch(value), f"{name} has a literal value: {value!r}"
    # The same on the text (list-form entries, anything the structure above misses).
    assignment = re.compile(r"^\s*-?\s*[\"']?([A-Z0-9_]*(?:PASSWORD|SECRET|KEY)[A-Z0-9_]*)[\"']?\s*[:=]\s*(.*)$")
    for line in text.splitlines():
        match = assignment.match(line)
        if match:
            value = re.split(r"(?:^|\s)#", match.group(2), maxsplit=1)[0].strip().strip("\"'")
            assert not value or SECRET_REFERENCE.fullmatch(value), f"literal secret in: {line.strip()}"
    for secret in REQUIRED_SECRETS:
        assert _env_file_values(ENV_EXAMPLE)[secret] not in text


def test_env_example_holds_placeholders_and_env_is_ignored_by_git() -> None:
    values = _env_file_values(ENV_EXAMPLE)
    for secret in REQUIRED_SECRETS:
        assert values[secret].startswith("change-me"), secret
    ignored = subprocess.run(["git", "check-ignore", "-q", "docker/.env"], cwd=REPO, check=False)
    assert ignored.returncode == 0, "docker/.env (the real secrets) must be ignored by git"


# ---- the Dagster instance and workspace of the containers ---------------------------------------------------------


def test_container_instance_has_the_local_instance_rules() -> None:
    root = yaml.safe_load((REPO / "dagster.instance.yaml").read_text())
    docker = yaml.safe_load((DOCKER / "dagster.yaml").read_text())
    for key in ("storage", "run_coordinator", "concurrency", "run_monitoring"):
        assert docker[key] == root[key], key
    # one slot per pool (spark, kafka), granted per run: the freshness check never waits behind a backfill
    assert docker["concurrency"]["pools"] == {"granularity": "run", "default_limit": 1}
    assert docker["concurrency"]["runs"]["max_concurrent_runs"] > 1
    assert docker["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert docker["run_launcher"]["class"] == "DefaultRunLauncher"


def test_container_instance_is_valid_dagster_config(tmp_path: Path) -> None:
    from dagster._core.instance.config import dagster_instance_config

    shutil.copy(DOCKER / "dagster.yaml", tmp_path / "dagster.yaml")
    config, _ = dagster_instance_config(str(tmp_path))
    assert config["run_launcher"]["class"] == "DefaultRunLauncher"


def test_webserver_and_daemon_load_the_code_location_over_grpc(services: dict[str, dict[str, Any]]) -> None:
    (entry,) = yaml.safe_load((DOCKER / "workspace.yaml").read_text())["load_from"]
    grpc = entry["grpc_server"]
    (local,) = yaml.safe_load((REPO / "workspace.yaml").read_text())["load_from"]
    assert grpc["location_name"] == local["python_module"]["location_name"]
    assert grpc["host"] == "code-location"
    command = services["code-location"]["command"]
    assert command[:3] == ["dagster", "code-server", "start"]
    assert command[command.index("-p") + 1] == str(grpc["port"])
    assert command[command.index("-m") + 1] == local["python_module"]["module_name"]
    assert command[command.index("--location-name") + 1] == grpc["location_name"]
    for name in ("dagster-webserver", "dagster-daemon"):
        assert "/opt/dagster/app/workspace.yaml" in services[name]["command"], name
    # All interfaces inside its container; only 127.0.0.1 of the host is published (test above).
    assert services["dagster-webserver"]["command"][:5] == ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000"]  # noqa: S104


# ---- the image ------------------------------------------------------------------------------------------------------


def test_dockerfile_builds_the_platform_image() -> None:
    instructions = _dockerfile_instructions()
    froms = [args for keyword, args in instructions if keyword == "FROM"]
    assert froms[0] == "maven:3-eclipse-temurin-17 AS spark-jars"
    args = dict(a.split("=", 1) for keyword, a in instructions if keyword == "ARG" and "=" in a)
    assert args["PYTHON_IMAGE"].startswith("python:3.11-slim")
    assert froms[-1] == "${PYTHON_IMAGE}"
    runs = " ".join(a for keyword, a in instructions if keyword == "RUN")
    assert "openjdk-17-jre-headless" in runs and "pip install" in runs
    users = [a for keyword, a in instructions if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}
    env = _dockerfile_env()
    assert env["DAGSTER_HOME"] == "/opt/dagster/home"
    copies = [a for keyword, a in instructions if keyword == "COPY"]
    assert any(c.endswith("docker/dagster.yaml /opt/dagster/home/dagster.yaml") for c in copies)
    assert any(c.endswith("docker/workspace.yaml /opt/dagster/app/workspace.yaml") for c in copies)
    (cmd,) = [a for keyword, a in instructions if keyword == "CMD"]
    assert '"code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "weather_platform.definitions"' in cmd


def test_image_jars_are_the_local_stacks_spark_artifacts() -> None:
    pom = ET.parse(DOCKER / "spark-jars" / "pom.xml").getroot()  # noqa: S314 - our own file
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    deps = [
        ":".join(d.findtext(f"m:{part}", namespaces=ns) or "" for part in ("groupId", "artifactId", "version"))
        for d in pom.findall("m:dependencies/m:dependency", ns)
    ]
    assert deps == list(versions.SPARK_ARTIFACTS)
    jars = _dockerfile_env()["SPARK_JARS"].split(",")
    assert all(jar.startswith("/opt/spark-jars/") and jar.endswith(".jar") for jar in jars)
    for coordinate in versions.SPARK_ARTIFACTS:
        _, artifact, version = coordinate.split(":")
        assert f"/opt/spark-jars/{artifact}-{version}.jar" in jars, coordinate


# ---- no second configuration system ----------------------------------------------------------------------------


def test_settings_read_what_the_code_location_receives(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The code location's environment (placeholders substituted from .env.example by Compose) through the same
    Settings, Spark configuration and Dagster resources as the local stack."""
    from weather_platform.resources import build_resources

    env = {k: v for k, v in _environment(services["code-location"]).items() if v is not None}
    env["SPARK_JARS"] = _dockerfile_env()["SPARK_JARS"]
    for field in Settings.model_fields:  # nothing from this shell (e.g. the local stack's variables) leaks in
        monkeypatch.delenv(field.upper(), raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    settings = Settings(_env_file=None)
    for name, value in env.items():
        field = name.lower()
        if field not in Settings.model_fields:
            assert name in PLATFORM_EXTRAS | INFRASTRUCTURE, f"{name} is read by nothing in Settings"
            continue
        got = getattr(settings, field)
        got = got.get_secret_value() if isinstance(got, SecretStr) else got
        assert str(got) == value, name

    assert settings.uses_simulator and settings.api_base_url == "http://simulator:8089/data/2.5"
    conf = spark_conf(settings)
    assert conf["spark.master"] == "spark://spark-master:7077"
    assert conf["spark.jars"] == env["SPARK_JARS"]
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://minio:9000"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert env["S3_SECRET_ACCESS_KEY"] not in conf.values()  # a session's conf ends up on a command line
    assert s3a_credentials(settings)["fs.s3a.access.key"] == env["S3_ACCESS_KEY_ID"]

    resources = build_resources(settings)
    assert resources["kafka"].bootstrap_servers == "kafka:9092"
    assert resources["kafka"].topic == "weather-data" and resources["kafka"].dlq_topic == "weather-data-dlq"
    assert resources["lake"].bronze_bucket == "bronze-layer" and resources["lake"].silver_bucket == "silver-layer"
    assert resources["postgres"].host == "postgres" and resources["postgres"].dbname == "weather_dw"
    assert resources["spark"].master == "spark://spark-master:7077"
    assert resources["weather_api"].base_url == "http://simulator:8089/data/2.5"


# ---- the dashboard and Grafana ------------------------------------------------------------------------------------


def test_the_dashboard_serves_gold_as_the_reader(services: dict[str, dict[str, Any]]) -> None:
    dashboard = services["dashboard"]
    command = dashboard["command"]
    assert command[:2] == ["weather-platform", "serve"] and command[command.index("--port") + 1] == "8080"
    env = _environment(dashboard)
    assert env["POSTGRES_HOST"] == "postgres" and env["POSTGRES_DB"] == "weather_dw"
    assert "POSTGRES_PASSWORD" not in env  # the writer's password stays with the writer
    assert env["WEATHER_READER_PASSWORD"] == _env_file_values(ENV_EXAMPLE)["WEATHER_READER_PASSWORD"]
    assert "/health" in " ".join(dashboard["healthcheck"]["test"])


def test_grafana_reads_gold_as_the_reader_with_the_shipped_dashboard(services: dict[str, dict[str, Any]]) -> None:
    grafana = services["grafana"]
    mounts = _mounts(grafana)
    provisioning = Path(mounts["/etc/grafana/provisioning"])
    dashboards = Path(mounts["/etc/grafana/dashboards"])
    assert provisioning == DOCKER / "grafana" / "provisioning" and dashboards == DOCKER / "grafana" / "dashboards"
    (source,) = yaml.safe_load((provisioning / "datasources" / "weather-dw.yml").read_text())["datasources"]
    assert source["type"] == "grafana-postgresql-datasource" and source["user"] == "weather_reader"
    assert source["url"] == "${POSTGRES_HOST}:${POSTGRES_PORT}" and source["jsonData"]["database"] == "${POSTGRES_DB}"
    assert source["secureJsonData"] == {"password": "${WEATHER_READER_PASSWORD}"}  # from the environment only
    env = _environment(grafana)
    for name in ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "WEATHER_READER_PASSWORD"):
        assert env.get(name), f"grafana lacks {name} for its data source"
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "weather.yml").read_text())["providers"]
    assert provider["options"]["path"] == "/etc/grafana/dashboards"
    assert env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"] == "/etc/grafana/dashboards/weather.json"


def test_the_grafana_dashboard_charts_temperature_humidity_and_precipitation_from_the_views() -> None:
    import json

    from weather_platform.warehouse.tables import VIEWS

    board = json.loads((DOCKER / "grafana" / "dashboards" / "weather.json").read_text(encoding="utf-8"))
    assert board["uid"] and board["timezone"] == "utc"
    titles = " ".join(p["title"].lower() for p in board["panels"])
    for quantity in ("temperature", "humidity", "precipitation"):
        assert quantity in titles, quantity
    queries = [t["rawSql"] for p in board["panels"] for t in p["targets"]]
    queries.append(board["templating"]["list"][0]["query"])
    for query in queries:
        relations = set(re.findall(r"\bFROM\s+([a-z_]+)", query, re.IGNORECASE))
        assert relations and relations <= set(VIEWS), query  # the analyst views, nothing else
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == "weather-dw", panel["title"]
        assert all(t["datasource"]["uid"] == "weather-dw" for t in panel["targets"]), panel["title"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
