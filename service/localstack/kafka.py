"""A real single-node Apache Kafka 4.x broker (KRaft mode) on a free loopback port.

The broker jars are resolved from Maven Central by ``deploy/kafka/pom.xml`` into a
cache outside the repository (``$XDG_CACHE_HOME/auditlens/kafka-<version>``) and
reused while present. Each start formats KRaft storage in a fresh directory, so
no state leaks between runs.

Command line (used by the Makefile)::

    python -m service.localstack.kafka fetch
    python -m service.localstack.kafka start --dir .auditlens/kafka   # prints host:port
    python -m service.localstack.kafka stop --dir .auditlens/kafka
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from service.exceptions import ConfigurationError
from service.localstack import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
POM = REPO_ROOT / "deploy" / "kafka" / "pom.xml"
LOG_CONFIG = REPO_ROOT / "deploy" / "kafka" / "log4j2.properties"
_NO_KAFKA_HINT = (
    "or set AUDITLENS_KAFKA_BOOTSTRAP_SERVERS=host:port to use an existing Kafka cluster instead"
)


def kafka_version() -> str:
    """The broker version pinned in the pom (one place to change it)."""
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>", POM.read_text())
    if match is None:  # pragma: no cover - the pom is part of the repository
        raise ConfigurationError(f"no <kafka.version> in {POM}")
    return match.group(1)


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "auditlens" / f"kafka-{kafka_version()}"


def _require_tool(name: str, purpose: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ConfigurationError(
            f"{name} not found on PATH: it is needed to {purpose}. "
            f"Install it (Debian: apt-get install openjdk-17-jdk-headless maven), {_NO_KAFKA_HINT}."
        )
    return path


def fetch_jars() -> Path:
    """Resolve the broker jars with Maven once; later calls reuse the cache."""
    libs = cache_dir() / "libs"
    marker = cache_dir() / ".complete"
    if marker.exists():
        return libs
    _require_tool("java", "run the local Kafka broker")
    mvn = _require_tool("mvn", "resolve the Kafka broker jars from Maven Central")
    staging = cache_dir() / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ConfigurationError(
            "Maven could not resolve the Kafka broker jars:\n"
            f"{result.stdout[-2000:]}{result.stderr[-2000:]}\n{_NO_KAFKA_HINT}."
        )
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    marker.write_text(kafka_version())
    return libs


def _cluster_id(random_bytes: Callable[[], bytes] = lambda: uuid.uuid4().bytes) -> str:
    """A KRaft cluster id: a UUID in URL-safe base64 without padding.

    About one id in 64 starts with ``-``, which the storage tool's argument parser
    takes for an option. Kafka's own ``Uuid.randomUuid`` redraws such ids; so do we.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(random_bytes()).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


@dataclass
class KafkaBroker:
    """One broker+controller process; use as a context manager or call start/stop."""

    workdir: Path
    port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    partitions: int = 4
    heap: str = "768m"
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.workdir / "broker.log"

    def _write_config(self) -> Path:
        data = self.workdir / "data"
        config = self.workdir / "server.properties"
        config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},"
                    f"CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                    f"log.dirs={data}",
                    f"num.partitions={self.partitions}",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=4",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "auto.create.topics.enable=true",
                    "message.max.bytes=2097152",
                ]
            )
            + "\n"
        )
        return config

    def _java(self, libs: Path, *args: str) -> list[str]:
        java = _require_tool("java", "run the local Kafka broker")
        return [
            java,
            f"-Xmx{self.heap}",
            "-Xms128m",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={LOG_CONFIG}",
            "-cp",
            f"{libs}/*",
            *args,
        ]

    def start(self, timeout_s: float = 90.0, fresh: bool = True) -> KafkaBroker:
        """Start the broker, return once it serves clients.

        ``fresh`` formats new KRaft storage; without it the broker comes back on the
        storage (topics, offsets, committed positions) of its last run.
        """
        libs = fetch_jars()
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        if fresh:
            shutil.rmtree(self.workdir / "data", ignore_errors=True)
            self._format(libs, config)
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                self._java(libs, "kafka.Kafka", str(config)),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        (self.workdir / "broker.pid").write_text(str(self.process.pid))
        (self.workdir / "bootstrap").write_text(self.bootstrap_servers)
        self._wait_until_ready(timeout_s)
        return self

    def _format(self, libs: Path, config: Path) -> None:
        fmt = subprocess.run(
            self._java(
                libs, "kafka.tools.StorageTool", "format", "-t", _cluster_id(), "-c", str(config)
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if fmt.returncode != 0:
            raise ConfigurationError(f"formatting KRaft storage failed:\n{fmt.stderr[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: the broker dies with no shutdown at all (recovery tests)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def _wait_until_ready(self, timeout_s: float) -> None:
        """Ready means a real client round trip: the broker answers a metadata request."""
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError

        deadline = time.monotonic() + timeout_s
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ConfigurationError(
                    f"the Kafka broker exited with code {self.process.returncode}; "
                    f"see {self.log_file}:\n{self.log_file.read_text()[-3000:]}"
                )
            if not _port_open(self.port):
                time.sleep(0.1)
                continue
            try:
                admin = KafkaAdminClient(
                    bootstrap_servers=self.bootstrap_servers, request_timeout_ms=3000
                )
                try:
                    admin.list_topics()
                    admin.describe_cluster()
                finally:
                    admin.close()
                return
            except (KafkaError, OSError) as exc:
                last_error = exc
                time.sleep(0.2)
        self.stop()
        raise ConfigurationError(
            f"the Kafka broker did not accept clients within {timeout_s:.0f}s "
            f"(last error: {last_error}); see {self.log_file}"
        )

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM for a controlled shutdown; SIGKILL only if it does not finish in time."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        (self.workdir / "broker.pid").unlink(missing_ok=True)

    def __enter__(self) -> KafkaBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def stop_by_pidfile(workdir: Path, timeout_s: float = 30.0) -> bool:
    """Stop a broker started by another process (``make run``); True if one was running."""
    pidfile = workdir / "broker.pid"
    if not pidfile.exists():
        return False
    pid = int(pidfile.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pidfile.unlink(missing_ok=True)
        return False
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        os.kill(pid, signal.SIGKILL)
    pidfile.unlink(missing_ok=True)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.localstack.kafka")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fetch", help="resolve the broker jars into the cache")
    start = sub.add_parser("start", help="start a broker in the background; prints host:port")
    start.add_argument("--dir", type=Path, required=True)
    stop = sub.add_parser("stop", help="stop the broker started in --dir")
    stop.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            print(fetch_jars())
        elif args.command == "start":
            stop_by_pidfile(args.dir)
            broker = KafkaBroker(workdir=args.dir).start()
            broker.process = None  # leave it running after this process exits
            print(broker.bootstrap_servers)
        else:
            stop_by_pidfile(args.dir)
    except ConfigurationError as exc:
        print(f"auditlens: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
