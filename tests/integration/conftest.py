"""Shared set-up for the end-to-end tests: one generated environment and one trained
champion per session, plus helpers to run the CLI and scorer processes for real."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import orjson
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

from service.localstack import free_port
from service.replay import _messages


def clean_environ() -> dict[str, str]:
    """This process's environment without MLFLOW_TRACKING_URI, which MLflow sets as a side
    effect of ``mlflow.set_tracking_uri`` in-process and which would otherwise point every
    child process at the last tracking store this process touched."""
    return {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}


def cli(
    env: dict[str, str], *args: str, timeout_s: float = 600
) -> subprocess.CompletedProcess[str]:
    """``auditlens ARGS`` in a child process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def run_cli(env: dict[str, str], *args: str) -> str:
    result = cli(env, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def pull_all(base: str, key: str) -> list[dict[str, object]]:
    """A SIEM's incremental pull: follow next_cursor until a page comes back empty."""
    items: list[dict[str, object]] = []
    cursor = None
    while True:
        params = {"limit": 50, **({"cursor": cursor} if cursor else {})}
        page = httpx.get(
            f"{base}/v1/anomalies", params=params, headers={"Authorization": f"Bearer {key}"}
        )
        page.raise_for_status()
        body = page.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if not body["items"]:
            return items


@dataclass(frozen=True)
class TrainedEnvironment:
    """Generated data, a promoted model, and what the offline scorer flags on the test file."""

    data_dir: Path
    train_file: Path
    test_file: Path
    expected: dict[str, float]  # event_id -> score of every event the offline scorer flags

    @property
    def offline_file(self) -> Path:
        """Every event of the test file as ``auditlens score`` scored it (JSON lines)."""
        return self.data_dir.parent / "offline.jsonl"


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> TrainedEnvironment:
    root = tmp_path_factory.mktemp("trained")
    env = {**clean_environ(), "AUDITLENS_DATA_DIR": str(root / "data")}
    gen = root / "gen"
    run_cli(env, "generate", "--out", str(gen), "--days", "10", "--events-per-day", "2000")
    trained = run_cli(env, "train", "--data", str(gen / "train.jsonl"), "--promote")
    assert "alias champion -> version 1" in trained
    offline = root / "offline.jsonl"
    run_cli(env, "score", "--data", str(gen / "test.jsonl"), "--out", str(offline))
    expected = {
        r["event_id"]: r["score"]
        for r in map(orjson.loads, offline.read_bytes().splitlines())
        if r["is_anomaly"]
    }
    assert expected, "the offline scorer flagged nothing: the tests would prove nothing"
    return TrainedEnvironment(root / "data", gen / "train.jsonl", gen / "test.jsonl", expected)


def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        admin.close()


def expected_per_partition(trained: TrainedEnvironment, partitions: int) -> dict[str, float]:
    """What the stream must flag when replayed into ``partitions`` partitions.

    History is kept per partition, so each partition's events are scored offline
    on their own, in replay order, from the model's baseline — exactly as the
    scorers see them, whichever process owns the partition (including the report
    memory that drops re-sent policy results: the environment-wide history counts
    every event a partition scores).
    """
    from kafka.partitioner.default import murmur2

    from features.decode import normalize_message
    from features.schema import to_frame
    from models.registry import RegistryConfig, load
    from service.replay import _messages
    from service.scoring import score_events

    model = load(
        RegistryConfig(
            tracking_uri=f"sqlite:///{(trained.data_dir / 'mlflow.db').resolve()}",
            artifact_root=(trained.data_dir / "mlflow-artifacts").resolve(),
        )
    )
    assert model is not None
    messages = _messages([trained.test_file]).sort("time", "event_id", maintain_order=True)
    groups: dict[int, list[bytes]] = {}
    for value, key in messages.select("value", "key").iter_rows():
        if key is None:  # lands on any partition: fine only if nothing in it is scored
            assert normalize_message(value) == [], "a scored event without a message key"
            continue
        partition = (murmur2(key) & 0x7FFFFFFF) % partitions
        groups.setdefault(partition, []).append(value)
    expected: dict[str, float] = {}
    for values in groups.values():
        # As the scorer: a partition's history starts from the model's baseline, and a
        # re-sent policy report only yields its results that are new or changed.
        state = model.model.baseline_state.copy()
        events = [
            row
            for value in values
            for row in state.reports.new_or_changed(normalize_message(value))
        ]
        frame, _ = to_frame(events)
        scored = score_events(model, frame, state).frame.filter("is_anomaly")
        expected.update(zip(scored["event_id"], scored["score"], strict=True))
    return expected


@pytest.fixture
def service_env(
    trained: TrainedEnvironment, tmp_path: Path, kafka_bootstrap: str, unique_name: str
) -> dict[str, str]:
    """Settings for one test's scorer(s): its own single-partition topic, group and store."""
    create_topic(kafka_bootstrap, f"in-{unique_name}", partitions=1)
    return {
        **clean_environ(),
        "AUDITLENS_DATA_DIR": str(trained.data_dir),
        "AUDITLENS_STORE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "AUDITLENS_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "AUDITLENS_TOPICS": f"in-{unique_name}",
        "AUDITLENS_CONSUMER_GROUP": f"group-{unique_name}",
        "AUDITLENS_DLQ_TOPIC": f"dlq-{unique_name}",
        "AUDITLENS_API_PORT": str(free_port()),
        "AUDITLENS_BATCH_MAX_WAIT_MS": "200",
        "AUDITLENS_MODEL_REFRESH_S": "1",
        # The optimizer of `--role all` must not retrain into the registry these tests
        # share: no schedule, and no window ever holds enough events for the drift trigger.
        "AUDITLENS_RETRAIN_INTERVAL_H": "1000000",
        "AUDITLENS_GUARD_MIN_EVENTS": "1000000000",
        "AUDITLENS_AUTO_PROMOTE": "false",
    }


class Processes:
    """Starts `auditlens serve` processes and always stops them at the end of the test."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[subprocess.Popen[bytes]] = []

    def serve(self, env: dict[str, str], role: str = "scorer") -> subprocess.Popen[bytes]:
        log = (self.tmp_path / f"serve-{len(self.started)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--role", role],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.started.append(process)
        return process

    def full_logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.tmp_path.glob("serve-*.log")))

    def logs(self) -> str:
        return "\n".join(p.read_text()[-2000:] for p in sorted(self.tmp_path.glob("serve-*.log")))

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.terminate()
        for process in self.started:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    running = Processes(tmp_path)
    yield running
    running.stop_all()


def produce(bootstrap: str, topic: str, values: list[tuple[bytes, bytes | None]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for value, key in values:
        producer.send(topic, value=value, key=key)
    producer.flush()
    producer.close()


def parts(trained: TrainedEnvironment, count: int) -> list[list]:  # type: ignore[type-arg]
    """The test period in replay order, in ``count`` parts, for events (outages, a
    scorer joining or dying) to fall between."""
    messages = _messages([trained.test_file]).sort("time", "event_id", maintain_order=True)
    rows = list(messages.select("value", "key").iter_rows())
    size = -(-len(rows) // count)
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def read_topic(bootstrap: str, topic: str, expected: int, timeout_s: float = 60) -> list:  # type: ignore[type-arg]
    """Every record of ``topic`` from the beginning, until ``expected`` arrived or time is up."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=int(timeout_s * 1000),
    )
    records = []
    try:
        for record in consumer:
            records.append(record)
            if len(records) >= expected:
                break
    finally:
        consumer.close()
    return records
