"""End to end through the real broker: throughput, latency, memory and entity state.

Throughput: the topic is filled first, then the scorers start and drain it.
Progress is the consumer group's committed offsets (the scorer commits at each
checkpoint, after the batches before it are stored and their state snapshotted;
the benchmark sets ``AUDITLENS_CHECKPOINT_INTERVAL_S=1``). The rate is measured
from the first commit to the commit that reaches the end offsets, so process
start-up and model loading are left out (reported apart as ``startup_s``).

Latency: scorers run idle on an empty topic; a producer then sends consecutive
slices of the stream at fixed rates (fractions of the measured maximum),
recording when it sent each message. An anomaly's latency is its ``stored_at``
in the store minus the send time of the message that carried it: event to
stored anomaly, for the flagged events only (the others leave no trace with a
time; committing, the only other mark, waits for the next checkpoint).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from benchmarks.kafka_io import Cluster, Message, keyed, produce
from benchmarks.processes import Scorers
from benchmarks.workload import child_env
from features.state import EntityState

POLL_S = 0.2


@dataclass(frozen=True)
class Context:
    """What every end-to-end run shares."""

    cluster: Cluster
    data_dir: Path
    work: Path
    partitions: int
    checkpoint_interval_s: float
    timeout_s: float
    run_id: str  # in every topic and group name: runs never share them on one cluster

    def name(self, what: str) -> str:
        return f"bench.{self.run_id}.{what}"

    def env(self, topic: str, group: str) -> dict[str, str]:
        return child_env(
            self.data_dir,
            AUDITLENS_KAFKA_BOOTSTRAP_SERVERS=self.cluster.bootstrap,
            AUDITLENS_TOPICS=topic,
            AUDITLENS_CONSUMER_GROUP=group,
            AUDITLENS_DLQ_TOPIC=f"{topic}.dlq",
            AUDITLENS_STORE_URL=f"sqlite:///{self.store_file(group)}",
            AUDITLENS_CHECKPOINT_INTERVAL_S=str(self.checkpoint_interval_s),
        )

    def store_file(self, group: str) -> Path:
        return self.work / f"store-{group}.db"


def fill_topic(ctx: Context, topic: str, messages: list[Message]) -> dict[str, float]:
    ctx.cluster.create_topic(topic, ctx.partitions)
    result = produce(ctx.cluster.bootstrap, topic, messages, timeout_s=ctx.timeout_s)
    return {"messages": result.sent, "seconds": result.seconds, "rate": result.rate}


def _done(committed: dict[int, int], end: dict[int, int]) -> bool:
    """Every partition committed up to its end offset (an empty one has nothing to commit).

    >>> _done({0: 5, 1: 3}, {0: 5, 1: 3}), _done({0: 5}, {0: 5, 1: 3}), _done({}, {0: 0})
    (True, False, True)
    """
    return all(offset == 0 or committed.get(p, -1) >= offset for p, offset in end.items())


def throughput(
    ctx: Context, topic: str, label: str, scorers: int, events_per_message: float
) -> dict[str, Any]:
    """Drain the filled ``topic`` with ``scorers`` processes in one consumer group."""
    group = ctx.name(label)
    end = ctx.cluster.end_offsets(topic, ctx.partitions)
    total = sum(end.values())
    samples: list[tuple[float, int]] = []
    timed_out = False
    with Scorers(ctx.env(topic, group), scorers, ctx.work / "logs", label) as procs:
        started = time.monotonic()
        while True:
            procs.check_alive()
            committed = ctx.cluster.committed(group, topic)
            samples.append((time.monotonic() - started, sum(committed.values())))
            if _done(committed, end):
                break
            if time.monotonic() - started > ctx.timeout_s:
                timed_out = True
                break
            time.sleep(POLL_S)
        rss = procs.peak_rss()
    result = {
        "scorers": scorers,
        "partitions": ctx.partitions,
        "messages": total,
        "events": round(total * events_per_message),
        "timed_out": timed_out,
        **_rates(samples, total, events_per_message),
        "peak_rss_bytes": rss,
        "anomalies_stored": _count_anomalies(ctx.store_file(group)),
        "dead_letters": _dead_letters(ctx, topic),
        **state_size(ctx.store_file(group), group),
    }
    return result


def _rates(
    samples: list[tuple[float, int]], total: int, events_per_message: float
) -> dict[str, float]:
    """Steady rate between the first and the last commit; start-up reported apart.

    >>> r = _rates([(0.0, 0), (5.0, 0), (6.0, 100), (16.0, 1100)], 1100, 1.5)
    >>> r["messages_per_s"], r["events_per_s"], r["startup_s"], r["wall_s"]
    (100.0, 150.0, 6.0, 16.0)
    """
    first = next(((t, c) for t, c in samples if c > 0), None)
    last_t, last_c = samples[-1] if samples else (0.0, 0)
    if first is None or last_t <= first[0]:
        rate = last_c / last_t if last_t > 0 else 0.0  # finished before a second commit
        startup = 0.0
    else:
        rate = (last_c - first[1]) / (last_t - first[0])
        startup = first[0]
    return {
        "messages_done": float(last_c),
        "messages_per_s": rate,
        "events_per_s": rate * events_per_message,
        "startup_s": startup,
        "wall_s": last_t,
    }


def _count_anomalies(store: Path) -> int:
    if not store.exists():
        return 0
    with sqlite3.connect(store) as db:
        return int(db.execute("SELECT count(*) FROM anomalies").fetchone()[0])


def _dead_letters(ctx: Context, topic: str) -> int:
    try:
        return sum(ctx.cluster.end_offsets(f"{topic}.dlq", 1).values())
    except Exception:  # no dead letter, no topic
        return 0


def state_size(store: Path, group: str) -> dict[str, Any]:
    """Bytes of the group's entity-state snapshots in the store and the entities they remember.

    ``state_actors`` counts distinct entities (the ``entity`` history's keys, see
    features.entities) over all partitions.
    """
    empty = {"state_bytes": 0, "state_partitions": 0, "state_actors": 0, "state_actor_rows": 0}
    if not store.exists():
        return empty
    with sqlite3.connect(store) as db:
        try:
            rows = db.execute(
                "SELECT snapshot FROM partition_states"
                " WHERE consumer_group = ? AND snapshot IS NOT NULL",
                (group,),
            ).fetchall()
        except sqlite3.OperationalError:
            return empty  # no schema yet
    states = [EntityState.from_bytes(snapshot) for (snapshot,) in rows]
    actors = [s.pairs["entity"] for s in states if "entity" in s.pairs]
    distinct = pl.concat(actors)["key"].n_unique() if actors else 0
    return {
        "state_bytes": sum(len(snapshot) for (snapshot,) in rows),
        "state_partitions": len(rows),
        "state_actors": distinct,
        "state_actor_rows": sum(a.height for a in actors),
    }


def _wait_ready(
    ctx: Context, procs: Scorers, group: str, topic: str, count: int, grace_s: float = 3.0
) -> float:
    """Until the group is stable with ``count`` members holding every partition.

    Readiness comes from the group's assignment, not from commits: a scorer
    commits only offsets it has processed, and an idle topic has none.
    """
    started = time.monotonic()
    limit = min(ctx.timeout_s, 300.0)
    while time.monotonic() - started < limit:
        procs.check_alive()
        members, assigned = ctx.cluster.assignment(group, topic)
        if members == count and len(assigned) == ctx.partitions:
            time.sleep(grace_s)  # the listeners have run; let the first poll start
            return time.monotonic() - started
        time.sleep(POLL_S)
    raise TimeoutError(f"scorers of {group} held no full assignment within {limit:.0f}s")


def latency(
    ctx: Context,
    values: list[bytes],
    keys: list[bytes | None],
    message_of_event: dict[str, int],
    max_rate: float,
    loads: list[float],
    seconds: float,
    scorers: int = 2,
) -> dict[str, Any]:
    """Event-to-stored-anomaly latency at each load (a fraction of ``max_rate``, messages/s)."""
    topic = group = ctx.name("latency")
    rates = [load * max_rate for load in loads]
    ctx.cluster.create_topic(topic, ctx.partitions)
    budget = len(values) / max(sum(rates), 1.0)
    seconds = min(seconds, budget)  # consecutive slices of the stream, no event sent twice
    levels: list[dict[str, Any]] = []
    send_times: list[npt.NDArray[np.float64]] = []
    with Scorers(ctx.env(topic, group), scorers, ctx.work / "logs", "latency") as procs:
        ready_s = _wait_ready(ctx, procs, group, topic, scorers)
        start = 0
        for load, rate in zip(loads, rates, strict=True):
            count = max(1, int(rate * seconds))
            sent = produce(
                ctx.cluster.bootstrap,
                topic,
                keyed(values[start : start + count], keys[start : start + count], ctx.partitions),
                rate=rate,
                linger_ms=5,
                timeout_s=ctx.timeout_s,
            )
            drained = _drain(ctx, procs, group, topic)
            levels.append(
                {
                    "load": load,
                    "target_rate": rate,
                    "achieved_rate": sent.rate,
                    "messages": sent.sent,
                    "first": start,
                    "drain_s": drained,
                }
            )
            send_times.append(sent.send_times)
            start += count
        rss = procs.peak_rss()
    stored = _stored_at(ctx.store_file(group))
    for level, sent_at in zip(levels, send_times, strict=True):
        level.update(_percentiles(_latencies(level, sent_at, stored, message_of_event)))
    return {
        "scorers": scorers,
        "seconds_per_level": seconds,
        "ready_s": ready_s,
        "levels": levels,
        "peak_rss_bytes": rss,
        "measured": "stored_at of each anomaly minus the send time of its message",
        **state_size(ctx.store_file(group), group),
    }


def _drain(ctx: Context, procs: Scorers, group: str, topic: str) -> float:
    end = ctx.cluster.end_offsets(topic, ctx.partitions)
    started = time.monotonic()
    while not _done(ctx.cluster.committed(group, topic), end):
        procs.check_alive()
        if time.monotonic() - started > ctx.timeout_s:
            raise TimeoutError(f"{group} did not drain {topic} within {ctx.timeout_s:.0f}s")
        time.sleep(POLL_S)
    return time.monotonic() - started


def _stored_at(store: Path) -> dict[str, float]:
    """event_id -> stored_at (epoch seconds) of every stored anomaly."""
    if not store.exists():
        return {}
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT event_id, stored_at FROM anomalies").fetchall()
    return {
        event_id: datetime.fromisoformat(stored).replace(tzinfo=UTC).timestamp()
        for event_id, stored in rows
    }


def _latencies(
    level: dict[str, Any],
    sent_at: npt.NDArray[np.float64],
    stored: dict[str, float],
    message_of_event: dict[str, int],
) -> npt.NDArray[np.float64]:
    first, count = level["first"], level["messages"]
    found = []
    for event_id, stored_time in stored.items():
        index = message_of_event.get(event_id)
        if index is not None and first <= index < first + count:
            found.append(stored_time - sent_at[index - first])
    return np.asarray(found, dtype=np.float64)


def _percentiles(latencies: npt.NDArray[np.float64]) -> dict[str, float]:
    """p50/p95/p99/max of a latency sample, in seconds (NaN when empty).

    >>> p = _percentiles(np.arange(1, 101, dtype=float) / 100)
    >>> p["anomalies"], round(p["p50_s"], 3), round(p["p99_s"], 3), p["max_s"]
    (100, 0.505, 0.99, 1.0)
    """
    if latencies.size == 0:
        nan = float("nan")
        return {"anomalies": 0, "p50_s": nan, "p95_s": nan, "p99_s": nan, "max_s": nan}
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99])
    return {
        "anomalies": int(latencies.size),
        "p50_s": float(p50),
        "p95_s": float(p95),
        "p99_s": float(p99),
        "max_s": float(latencies.max()),
    }
