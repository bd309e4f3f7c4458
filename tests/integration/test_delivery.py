"""Delivery guarantees through the real broker: dead letters, kill -9, rebalances.

Each test streams the generated test period (with its known anomalies) through
real scorer processes and checks the store ends up with every expected anomaly
exactly once.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import orjson
import polars as pl
import pytest
import sqlalchemy as sa
from kafka import KafkaProducer

from service.store.partition_states import PartitionStateView
from service.store.repository import Store
from tests.integration.conftest import (
    Processes,
    TrainedEnvironment,
    create_topic,
    expected_per_partition,
    parts,
    produce,
    read_topic,
    run_cli,
)

pytestmark = pytest.mark.integration


def stored_event_ids(store_url: str) -> list[str]:
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            return list(conn.exec_driver_sql("SELECT event_id FROM anomalies").scalars())
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return []  # the scorer has not created the schema yet (or PostgreSQL is down)
    finally:
        engine.dispose()


def partition_states(store_url: str, group: str) -> list[PartitionStateView]:
    store = Store(store_url)
    try:
        return store.list_partition_states(group)
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return []  # no schema yet
    finally:
        store.close()


def wait_for_count(
    store_url: str, target: int, processes: Processes, timeout_s: float = 120
) -> list[str]:
    deadline = time.monotonic() + timeout_s
    ids: list[str] = []
    while time.monotonic() < deadline:
        ids = stored_event_ids(store_url)
        if len(ids) >= target:
            return ids
        time.sleep(0.05)
    raise AssertionError(f"{len(ids)} of {target} anomalies stored\n{processes.logs()}")


def assert_exactly_once(ids: list[str], expected: dict[str, float]) -> None:
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicates, f"stored twice: {duplicates[:5]}"
    assert set(ids) == set(expected)


def replay(env: dict[str, str], trained: TrainedEnvironment) -> None:
    out = run_cli(
        env, "replay", "--data", str(trained.test_file), "--topic", env["AUDITLENS_TOPICS"]
    )
    assert out.startswith("produced ")


def test_bad_messages_are_dead_lettered_and_the_rest_is_scored(
    trained: TrainedEnvironment, service_env: dict[str, str], processes: Processes
) -> None:
    env = {**service_env, "AUDITLENS_MAX_MESSAGE_BYTES": str(256 * 1024)}
    # A Kubernetes audit event the scorer keeps (its final stage), spoilt a field at a time.
    good = next(
        event
        for event in map(orjson.loads, trained.test_file.read_bytes().splitlines())
        if event.get("kind") == "Event" and event.get("stage") == "ResponseComplete"
    )
    missing_id = {k: v for k, v in good.items() if k not in ("auditID", "eventID")}
    ill_typed = {**good, "verb": {"not": "text"}, "eventName": ["x"]}
    bad_time = {**good, "requestReceivedTimestamp": "yesterday", "eventTime": "yesterday"}
    bad = {
        "not_json": b"this is not json",
        "invalid_utf8": b'{"kind": "\xff\xfe"}',
        "not_an_object": b"42",
        "unknown_shape": b'{"hello": "world"}',
        "missing_field": orjson.dumps(missing_id),
        "bad_field": orjson.dumps(ill_typed),
        "oversize": orjson.dumps({**good, "padding": "x" * 300_000}),
        "bad_timestamp": orjson.dumps(bad_time),
    }
    producer = KafkaProducer(bootstrap_servers=env["AUDITLENS_KAFKA_BOOTSTRAP_SERVERS"])
    for reason, value in bad.items():
        producer.send(env["AUDITLENS_TOPICS"], value=value, headers=[("origin", reason.encode())])
    producer.flush()
    producer.close()
    processes.serve(env)
    replay(env, trained)

    ids = wait_for_count(env["AUDITLENS_STORE_URL"], len(trained.expected), processes)
    assert_exactly_once(ids, trained.expected)
    letters = read_topic(env["AUDITLENS_KAFKA_BOOTSTRAP_SERVERS"], env["AUDITLENS_DLQ_TOPIC"], 8)
    by_origin = {dict(r.headers)["origin"].decode(): r for r in letters}
    assert set(by_origin) == set(bad)
    for origin, record in by_origin.items():
        headers = {k: v.decode() for k, v in record.headers}
        assert record.value == bad[origin], "the original bytes must be kept"
        assert headers["auditlens.error.reason"] == origin
        assert headers["auditlens.source.topic"] == env["AUDITLENS_TOPICS"]
        assert int(headers["auditlens.source.offset"]) >= 0
        assert headers["auditlens.error.message"]


def archived_rows(root: Path) -> pl.DataFrame:
    """Every row of every archive file, as written (no reader de-duplication)."""
    paths = sorted(root.glob("source=*/date=*/*.parquet"))
    if not paths:
        return pl.DataFrame(schema={"event_id": pl.String, "offset": pl.Int64})
    return pl.concat([pl.read_parquet(p, columns=["event_id", "offset"]) for p in paths])


def test_kill_9_mid_stream_loses_and_duplicates_nothing(
    trained: TrainedEnvironment, service_env: dict[str, str], processes: Processes, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    env = {
        **service_env,
        "AUDITLENS_BATCH_MAX_EVENTS": "100",
        "AUDITLENS_ARCHIVE_URL": str(archive),
        "AUDITLENS_CHECKPOINT_INTERVAL_S": "1",
    }
    replay(env, trained)
    victim = processes.serve(env)
    wait_for_count(env["AUDITLENS_STORE_URL"], 1, processes)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    partial = stored_event_ids(env["AUDITLENS_STORE_URL"])
    assert len(partial) < len(trained.expected), "the kill came too late to test anything"
    archived_at_kill = archived_rows(archive).height

    processes.serve(env)
    ids = wait_for_count(env["AUDITLENS_STORE_URL"], len(trained.expected), processes)
    time.sleep(2)  # anything replayed twice would show up now
    assert_exactly_once(stored_event_ids(env["AUDITLENS_STORE_URL"]), trained.expected)
    assert set(partial) <= set(ids)

    # The archive holds every scored event exactly once, across the kill and the replay.
    scored = {
        r["event_id"] for r in map(orjson.loads, trained.offline_file.read_bytes().splitlines())
    }
    deadline = time.monotonic() + 60
    while archived_rows(archive).height < len(scored) and time.monotonic() < deadline:
        time.sleep(0.5)
    rows = archived_rows(archive)
    assert rows.height == rows["event_id"].n_unique(), "an event was archived twice"
    assert set(rows["event_id"]) == scored
    assert archived_at_kill < rows.height


def test_rebalance_with_a_second_scorer_and_a_stop_loses_and_duplicates_nothing(
    trained: TrainedEnvironment,
    service_env: dict[str, str],
    processes: Processes,
    kafka_bootstrap: str,
    unique_name: str,
) -> None:
    topic = f"wide-{unique_name}"
    create_topic(kafka_bootstrap, topic, partitions=4)
    env = {**service_env, "AUDITLENS_TOPICS": topic, "AUDITLENS_BATCH_MAX_EVENTS": "50"}
    expected = expected_per_partition(trained, partitions=4)
    replay(env, trained)
    first = processes.serve(env)
    wait_for_count(env["AUDITLENS_STORE_URL"], 1, processes)
    processes.serve(env)  # joins the group mid-stream: partitions are rebalanced
    wait_for_count(env["AUDITLENS_STORE_URL"], len(expected) // 2, processes)
    first.send_signal(signal.SIGTERM)  # leaves the group: its partitions move again
    assert first.wait(timeout=60) == 0, processes.logs()

    wait_for_count(env["AUDITLENS_STORE_URL"], len(expected), processes)
    time.sleep(2)
    assert_exactly_once(stored_event_ids(env["AUDITLENS_STORE_URL"]), expected)
    assert all(p.poll() is None for p in processes.started[1:]), "a scorer died"
    logs = processes.full_logs()
    assert "rebalance listener" not in logs
    assert "the scorer failed" not in logs


def test_scorers_sharing_no_disk_hand_partitions_over_through_the_store(
    trained: TrainedEnvironment,
    service_env: dict[str, str],
    processes: Processes,
    kafka_bootstrap: str,
    postgres_url: str,
    unique_name: str,
    tmp_path: Path,
) -> None:
    """Two scorers, each with its own data directory, one PostgreSQL store.

    A second scorer joins mid-stream (a rebalance), then the first is killed with
    SIGKILL: its partitions move to the survivor with the state and offset it last
    saved in the store. Every anomaly is stored exactly once, and each partition is
    scored as if one process had read it from start to end (its history moved
    with it, whichever scorer held it).
    """
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE t_{unique_name}")
    admin.dispose()
    store_url = postgres_url.rsplit("/", 1)[0] + f"/t_{unique_name}"
    topic = f"wide-{unique_name}"
    create_topic(kafka_bootstrap, topic, partitions=4)
    shared = {
        **service_env,
        "AUDITLENS_TOPICS": topic,
        "AUDITLENS_STORE_URL": store_url,
        "AUDITLENS_BATCH_MAX_EVENTS": "50",
        "AUDITLENS_CHECKPOINT_INTERVAL_S": "1",
        # The model comes from the tracking server both reach; nothing else is shared.
        "MLFLOW_TRACKING_URI": f"sqlite:///{(trained.data_dir / 'mlflow.db').resolve()}",
    }
    disks = [tmp_path / "scorer-a", tmp_path / "scorer-b"]
    envs = [{**shared, "AUDITLENS_DATA_DIR": str(disk)} for disk in disks]
    expected = expected_per_partition(trained, partitions=4)
    group = shared["AUDITLENS_CONSUMER_GROUP"]
    before_join, before_kill, after_kill = parts(trained, 3)

    first = processes.serve(envs[0])
    produce(kafka_bootstrap, topic, before_join)
    wait_for_count(store_url, 1, processes)
    second = processes.serve(envs[1])  # joins mid-stream: partitions are rebalanced
    deadline = time.monotonic() + 90
    while len({v.owner for v in partition_states(store_url, group)}) < 2:
        assert time.monotonic() < deadline, (
            f"the second scorer got no partition\n{processes.logs()}"
        )
        time.sleep(0.1)
    stored = len(stored_event_ids(store_url))
    produce(kafka_bootstrap, topic, before_kill)
    wait_for_count(store_url, stored + 1, processes)
    first.send_signal(signal.SIGKILL)  # mid-stream: its partitions move with what it saved
    first.wait()
    killed = time.monotonic()
    partial = stored_event_ids(store_url)
    produce(kafka_bootstrap, topic, after_kill)
    assert len(partial) < len(expected), "the kill came too late to test anything"
    # Owners are static member ids (host-pid-random): wait for the survivor to claim all.
    while len({v.owner for v in partition_states(store_url, group)}) > 1:
        assert time.monotonic() - killed < 60, processes.logs()
        time.sleep(0.1)
    taken_over_s = time.monotonic() - killed
    (owner,) = {v.owner for v in partition_states(store_url, group)}
    assert f"-{second.pid}-" in owner, (owner, second.pid)

    wait_for_count(store_url, len(expected), processes, timeout_s=180)
    time.sleep(2)  # anything scored twice would show up now
    ids = stored_event_ids(store_url)
    assert_exactly_once(ids, expected)
    assert set(partial) <= set(ids)
    assert second.poll() is None, processes.logs()
    views = partition_states(store_url, group)
    print(
        f"shared-nothing hand-over: {len(partial)} of {len(expected)} anomalies stored at the "
        f"kill; the survivor claimed every partition {taken_over_s:.2f} s after it; epochs "
        f"{sorted(v.epoch for v in views)}, snapshots {[v.snapshot_bytes for v in views]} bytes"
    )
    assert sorted(v.partition for v in views) == [0, 1, 2, 3]
    assert all(v.snapshot_bytes > 0 and v.next_offset for v in views)
    for disk in disks:
        assert not (disk / "state").exists(), f"{disk} holds partition state"
    logs = processes.full_logs()
    assert "rebalance listener" not in logs
    assert "claimed by another scorer" not in logs
