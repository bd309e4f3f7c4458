"""Outages of real dependencies mid-stream: the scorer resumes within seconds of their
return, and the store ends with every expected anomaly exactly once.

Each outage has its own dependency process (a broker on its own storage, a
PostgreSQL cluster), stopped and started by the test. The time to resume is
measured from the dependency's return to the scorer's next sign of work (a dead
letter for a canary message, or the next anomaly stored) and printed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from service.localstack import free_port
from service.localstack.kafka import KafkaBroker
from service.localstack.postgres import PostgresCluster
from tests.integration.conftest import (
    Processes,
    TrainedEnvironment,
    create_topic,
    parts,
    produce,
    read_topic,
    run_cli,
)
from tests.integration.test_delivery import assert_exactly_once, stored_event_ids, wait_for_count

pytestmark = pytest.mark.integration

# The aim is 5 s (measured 1-4 s); the limit leaves room for a loaded machine. Scorers
# are static group members, so a coordinator that lost the member does not make them
# wait for its session to expire (see service.kafka_group).
RESUME_LIMIT_S = 10.0
OUTAGE_S = 4.0  # long enough for the scorer to meet the outage (it retries every 0.1-2 s)


def scorer_env(base: dict[str, str], bootstrap: str, name: str, store_url: str) -> dict[str, str]:
    return {
        **base,
        "AUDITLENS_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "AUDITLENS_TOPICS": f"in-{name}",
        "AUDITLENS_CONSUMER_GROUP": f"group-{name}",
        "AUDITLENS_DLQ_TOPIC": f"dlq-{name}",
        "AUDITLENS_STORE_URL": store_url,
        "AUDITLENS_BATCH_MAX_EVENTS": "200",
    }


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[KafkaBroker]:
    with KafkaBroker(workdir=tmp_path / "kafka", partitions=1) as broker:
        yield broker


def test_the_scorer_resumes_within_seconds_of_the_broker_return(
    trained: TrainedEnvironment,
    service_env: dict[str, str],
    own_broker: KafkaBroker,  # before ``processes``: the scorer stops first, then its broker
    processes: Processes,
    unique_name: str,
    tmp_path: Path,
) -> None:
    """The broker stopped (SIGTERM), then killed (SIGKILL), each mid-stream and back on its
    storage: each time a canary message is dead-lettered soon after its return. The
    scorer's ``/readyz`` (on its health port) names the broker while it is gone."""
    bootstrap = own_broker.bootstrap_servers
    env = {
        **scorer_env(service_env, bootstrap, unique_name, f"sqlite:///{tmp_path / 'store.db'}"),
        "AUDITLENS_HEALTH_PORT": str(free_port()),
    }
    create_topic(bootstrap, env["AUDITLENS_TOPICS"], partitions=1)
    stream = parts(trained, 3)
    produce(bootstrap, env["AUDITLENS_TOPICS"], stream[0])
    processes.serve(env)
    wait_for_count(env["AUDITLENS_STORE_URL"], 1, processes)
    assert readiness(env["AUDITLENS_HEALTH_PORT"])["code"] == 200, readiness(
        env["AUDITLENS_HEALTH_PORT"]
    )

    resumed: dict[str, float] = {}
    for number, (how, part) in enumerate(zip(("SIGTERM", "SIGKILL"), stream[1:], strict=True)):
        gone = time.monotonic()
        if how == "SIGKILL":
            own_broker.kill()
        else:
            own_broker.stop()
        time.sleep(OUTAGE_S)  # the scorer meets a broker that is gone
        if how == "SIGTERM":  # stay away until readiness says so: an orchestrator drains it
            while readiness(env["AUDITLENS_HEALTH_PORT"])["checks"]["broker"]:
                assert time.monotonic() - gone < 30, processes.logs()
                time.sleep(0.2)
            print(f"broker gone: /readyz said so {time.monotonic() - gone:.2f} s after")
            assert readiness(env["AUDITLENS_HEALTH_PORT"])["code"] == 503
        own_broker.start(fresh=False)
        back = time.monotonic()
        # A canary the scorer can only answer by working again: a dead letter.
        canary = f"not json: canary {number}".encode()
        produce(bootstrap, env["AUDITLENS_TOPICS"], [(canary, None)])
        letters = read_topic(bootstrap, env["AUDITLENS_DLQ_TOPIC"], number + 1, timeout_s=60)
        assert any(r.value == canary for r in letters), processes.logs()
        resumed[how] = time.monotonic() - back
        print(f"broker {how}: scoring resumed {resumed[how]:.2f} s after the broker was back")
        produce(bootstrap, env["AUDITLENS_TOPICS"], part)

    wait_for_count(env["AUDITLENS_STORE_URL"], len(trained.expected), processes, timeout_s=180)
    time.sleep(2)  # anything scored twice would show up now
    assert_exactly_once(stored_event_ids(env["AUDITLENS_STORE_URL"]), trained.expected)
    assert all(seconds < RESUME_LIMIT_S for seconds in resumed.values()), resumed
    assert readiness(env["AUDITLENS_HEALTH_PORT"])["code"] == 200, readiness(
        env["AUDITLENS_HEALTH_PORT"]
    )


def test_the_scorer_holds_its_batch_through_a_postgresql_restart(
    trained: TrainedEnvironment,
    service_env: dict[str, str],
    processes: Processes,
    kafka_bootstrap: str,
    unique_name: str,
) -> None:
    """The scorer retries its batch, the API answers 503 and serves again by itself.

    First the store hangs (its processes stopped, connections left open): batches
    stop finishing while records wait, and ``/livez`` fails for the orchestrator to
    restart the process; it passes again once the store answers. A store that is
    down (refusing connections) is waited for, not a reason to restart.
    """
    with PostgresCluster() as cluster:
        # service_env made the topic in-<name> (one partition) on the session broker.
        env = {
            **scorer_env(service_env, kafka_bootstrap, unique_name, cluster.url),
            "AUDITLENS_STALL_S": "2",
        }
        key = run_cli(env, "keys", "create", "--role", "reader").strip().splitlines()[-1]
        api = f"http://127.0.0.1:{env['AUDITLENS_API_PORT']}"
        first, hung, second = parts(trained, 3)
        produce(kafka_bootstrap, env["AUDITLENS_TOPICS"], first)
        processes.serve(env, role="all")
        wait_for_count(cluster.url, 1, processes)

        before = len(stored_event_ids(cluster.url))
        cluster.freeze()
        try:
            frozen = time.monotonic()
            produce(kafka_bootstrap, env["AUDITLENS_TOPICS"], hung)
            while liveness(env["AUDITLENS_API_PORT"])["code"] == 200:
                assert time.monotonic() - frozen < 60, processes.logs()
                time.sleep(0.2)
            print(f"hung store: /livez failed {time.monotonic() - frozen:.2f} s after")
            assert liveness(env["AUDITLENS_API_PORT"])["status"] == "stalled"
        finally:
            cluster.thaw()
        thawed = time.monotonic()
        while liveness(env["AUDITLENS_API_PORT"])["code"] != 200:
            assert time.monotonic() - thawed < 60, processes.logs()
            time.sleep(0.2)
        wait_for_count(cluster.url, before + 1, processes, timeout_s=60)

        before = len(stored_event_ids(cluster.url))
        cluster.pause()
        produce(kafka_bootstrap, env["AUDITLENS_TOPICS"], second)  # arrives while it is down
        time.sleep(OUTAGE_S)
        assert readiness(env["AUDITLENS_API_PORT"])["code"] == 503
        assert liveness(env["AUDITLENS_API_PORT"])["code"] == 200, "waiting is not stuck"
        listed = httpx.get(
            f"{api}/v1/anomalies", headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        assert listed.status_code == 503, listed.text
        cluster.resume()
        back = time.monotonic()
        wait_for_count(cluster.url, before + 1, processes, timeout_s=60)
        resumed_s = time.monotonic() - back
        print(f"PostgreSQL restart: anomalies stored again {resumed_s:.2f} s after its return")
        assert "the store is unavailable; retrying the batch" in processes.full_logs()

        listed = httpx.get(
            f"{api}/v1/anomalies", headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        assert listed.status_code == 200, listed.text
        ready = readiness(env["AUDITLENS_API_PORT"])
        assert ready["code"] == 200, ready
        wait_for_count(cluster.url, len(trained.expected), processes, timeout_s=180)
        time.sleep(2)
        assert_exactly_once(stored_event_ids(cluster.url), trained.expected)
        assert resumed_s < RESUME_LIMIT_S, f"resumed after {resumed_s:.1f} s"


class NetworkGate:
    """A loopback TCP forwarder that can be cut (connections refused, open ones broken)
    and restored: an outage of whatever listens behind it, without restarting it."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.target_port = target_port
        self.listener: socket.socket | None = None
        self.connections: set[socket.socket] = set()

    def restore(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def cut(self) -> None:
        if self.listener is not None:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept
            self.listener.close()
            self.listener = None
        for connection in list(self.connections):
            connection.close()
        self.connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            self.connections.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


class TrackingServer:
    """A real ``mlflow server`` process over a copy of the trained registry, reached
    through a :class:`NetworkGate` (an outage is a cut of the gate: starting the server
    takes much longer than any outage worth testing)."""

    def __init__(self, registry_db: Path, workdir: Path) -> None:
        self.server_port = free_port()
        self.gate = NetworkGate(self.server_port)
        self.db = workdir / "mlflow.db"
        shutil.copy(registry_db, self.db)
        self.log = workdir / "mlflow-server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.gate.port}"

    def start(self, timeout_s: float = 90) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("mlflow")),
                    "server",
                    "--backend-store-uri",
                    f"sqlite:///{self.db}",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.server_port),
                    "--workers",
                    "1",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.gate.restore()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.uri}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"mlflow server did not start:\n{self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.gate.cut()
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        self.process = None


def liveness(port: str) -> dict:  # type: ignore[type-arg]
    response = httpx.get(f"http://127.0.0.1:{port}/livez", timeout=5)
    return {"code": response.status_code, **response.json()}


def readiness(port: str) -> dict:  # type: ignore[type-arg]
    response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
    return {"code": response.status_code, **response.json()}


def test_the_scorer_scores_on_through_a_tracking_server_outage(
    trained: TrainedEnvironment,
    service_env: dict[str, str],
    processes: Processes,
    kafka_bootstrap: str,
    unique_name: str,
    tmp_path: Path,
) -> None:
    server = TrackingServer(trained.data_dir / "mlflow.db", tmp_path)
    server.start()
    try:
        env = {
            **scorer_env(
                service_env, kafka_bootstrap, unique_name, f"sqlite:///{tmp_path / 'store.db'}"
            ),
            "MLFLOW_TRACKING_URI": server.uri,
        }
        first, second = parts(trained, 2)
        produce(kafka_bootstrap, env["AUDITLENS_TOPICS"], first)
        processes.serve(env, role="all")
        wait_for_count(env["AUDITLENS_STORE_URL"], 1, processes)

        server.gate.cut()
        produce(kafka_bootstrap, env["AUDITLENS_TOPICS"], second)
        # With the tracking server gone, every expected anomaly is still scored and stored.
        wait_for_count(env["AUDITLENS_STORE_URL"], len(trained.expected), processes)
        deadline = time.monotonic() + 30
        while readiness(env["AUDITLENS_API_PORT"])["degraded"] != ["model_registry"]:
            assert time.monotonic() < deadline, processes.logs()
            time.sleep(0.2)
        ready = readiness(env["AUDITLENS_API_PORT"])
        assert ready["code"] == 200, "a registry outage degrades, it does not stop the scorer"

        server.gate.restore()
        back = time.monotonic()
        while readiness(env["AUDITLENS_API_PORT"])["degraded"]:
            assert time.monotonic() - back < 60, processes.logs()
            time.sleep(0.2)
        noticed_s = time.monotonic() - back
        print(f"tracking server outage: registry reachable again {noticed_s:.2f} s after")
        time.sleep(2)
        assert_exactly_once(stored_event_ids(env["AUDITLENS_STORE_URL"]), trained.expected)
        assert noticed_s < RESUME_LIMIT_S
    finally:
        server.stop()
