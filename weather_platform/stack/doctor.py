"""`weather-platform doctor`: is this machine ready for the local stack? Each check says what to do when it fails.

Run by `make demo` and `make test` before anything starts. A tool only needed to build what is already cached (Maven
for the jars, Go for MinIO) is a warning, not a failure; services that are down are a warning too (`stack up` starts
them), while a port held by another process, too little disk or memory, or a missing Java is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from weather_platform.settings import Settings, cache_dir
from weather_platform.stack import versions
from weather_platform.stack.provision import COMPLETE, jars_cached
from weather_platform.stack.services import Service, port_taken_message

OK, WARN, FAIL = "ok", "warn", "fail"
MIN_PYTHON = (3, 11)
MIN_JAVA = 17
MIN_GO = (1, 24)


@dataclass(frozen=True)
class Check:
    name: str
    state: str  # ok, warn or fail
    detail: str
    fix: str = ""


def _version(argv: list[str], pattern: str) -> tuple[int, ...] | None:
    """The first version `pattern` finds in the output of `argv`, or None when the tool does not run."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(pattern, proc.stdout + proc.stderr)
    return tuple(int(part) for part in match.groups()) if match else None


def check_python() -> Check:
    found = sys.version_info[:2]
    text = ".".join(map(str, found))
    if found >= MIN_PYTHON:
        return Check("Python", OK, text)
    return Check("Python", FAIL, f"{text} is too old", "install Python 3.11 or newer and make the virtualenv with it")


def check_java() -> Check:
    java = shutil.which("java")
    if java is None:
        fix = "apt-get install openjdk-17-jre-headless"
        return Check("Java", FAIL, "no `java` on PATH (Kafka and Spark need it)", fix)
    found = _version([java, "-version"], r'version "(\d+)')
    if found is None or found[0] < MIN_JAVA:
        return Check("Java", FAIL, f"{java}: version {found or 'unknown'}", "install Java 17 (openjdk-17-jre-headless)")
    return Check("Java", OK, f"{found[0]} ({java})")


def check_maven() -> Check:
    cached = all(jars_cached(name, artifacts) for name, artifacts in _JARS)
    if shutil.which("mvn"):
        return Check("Maven", OK, "on PATH" + (" (jars already cached)" if cached else ""))
    if cached:
        return Check("Maven", WARN, "not on PATH; the Kafka and Spark jars are already cached", "apt-get install maven")
    return Check("Maven", FAIL, "not on PATH and the Kafka/Spark jars are not cached yet", "apt-get install maven")


_JARS = (("kafka", versions.KAFKA_ARTIFACTS), ("spark-jars", versions.SPARK_ARTIFACTS))


def check_go() -> Check:
    built = (cache_dir() / f"minio-{versions.MINIO_VERSION}" / COMPLETE).exists()
    go = shutil.which("go")
    found = _version([go, "version"], r"go(\d+)\.(\d+)") if go else None
    if found is not None and found >= MIN_GO:
        return Check("Go", OK, ".".join(map(str, found)) + (" (MinIO already built)" if built else ""))
    if built:
        return Check("Go", WARN, "Go >= 1.24 not found; MinIO is already built", "install Go 1.24+ to rebuild MinIO")
    return Check("Go", FAIL, f"Go >= 1.24 needed to build MinIO, found {found or 'none'}", "install Go 1.24 or newer")


def check_unshare() -> Check:
    if os.geteuid() != 0:
        return Check("unshare", OK, "not root: PostgreSQL runs as you")
    if shutil.which("unshare"):
        return Check("unshare", OK, "root: PostgreSQL runs as nobody in a user namespace")
    return Check("unshare", FAIL, "root, and no `unshare` (PostgreSQL refuses root)", "apt-get install util-linux")


def check_disk(min_free_gb: float, where: Path | None = None) -> Check:
    folder = where or cache_dir()
    probe = folder if folder.exists() else Path.home()
    free_gb = shutil.disk_usage(probe).free / 1e9
    detail = f"{free_gb:.1f} GB free at {probe} (needs {min_free_gb:g} GB)"
    if free_gb >= min_free_gb:
        return Check("disk", OK, detail)
    return Check("disk", FAIL, detail, "free some space, or point WEATHER_PLATFORM_CACHE/STATE at a larger disk")


def check_memory(min_available_gb: float) -> Check:
    try:
        meminfo = Path("/proc/meminfo").read_text()
    except OSError:
        return Check("memory", WARN, "cannot read /proc/meminfo")
    match = re.search(r"MemAvailable:\s+(\d+) kB", meminfo)
    available_gb = int(match.group(1)) / 1e6 if match else 0.0
    detail = f"{available_gb:.1f} GB available (needs {min_available_gb:g} GB)"
    if available_gb >= min_available_gb:
        return Check("memory", OK, detail)
    return Check("memory", FAIL, detail, "close other programs: the stack and a Spark run take about 3 GB")


def check_service(service: Service) -> list[Check]:
    """Its ports, and whether it answers."""
    name = f"{service.name} :{service.port}"
    taken = service.taken_ports()
    if taken:
        return [Check(name, FAIL, "port in use by another process", port_taken_message(service, taken[0]))]
    if service.pid() is None:
        return [Check(name, WARN, "port free; the service is not running", "weather-platform stack up")]
    health = service.health()
    if health == "healthy":
        return [Check(name, OK, "running and answering")]
    return [Check(name, FAIL, health, f"see {service.log}; `weather-platform stack down && weather-platform stack up`")]


def check_api_key(settings: Settings) -> Check:
    if settings.openweather_api_key is None:
        return Check("OpenWeather key", OK, "unset: the simulator is the weather source")
    from weather_platform.connections import weather_client

    with weather_client(settings, max_attempts=1, timeout=10.0) as client:
        status = client.check_api()
    if status.ok:
        return Check("OpenWeather key", OK, f"accepted by {settings.api_base_url}")
    return Check("OpenWeather key", FAIL, status.detail, "check OPENWEATHER_API_KEY, or unset it to use the simulator")


def run(settings: Settings, services: list[Service]) -> list[Check]:
    checks = [check_python(), check_java(), check_maven(), check_go(), check_unshare()]
    checks += [check_disk(settings.doctor_min_free_gb), check_memory(settings.doctor_min_memory_gb)]
    for service in services:
        checks += check_service(service)
    checks.append(check_api_key(settings))
    return checks
