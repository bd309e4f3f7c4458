"""The events every measurement shares: a trained champion and a stream of raw messages.

One ``auditlens generate`` run (14 days: 10.5 of training, then 3.5 of test) at the density
that puts ``N`` lines in its test period, so that the model and the stream see the
same organisation at the same rate of events per actor:

* **Model**: ``auditlens train --promote`` on the last week of the training period
  (weekdays and a weekend), in a temporary data directory, exactly as an operator
  would. Its history ends where the stream begins.
* **Stream**: the test period, truncated to ``N`` messages: Kubernetes audit,
  CloudTrail and policy results mixed, with the labelled attacks and benign rare
  events, one JSON document per message, in time order, keyed as ``auditlens
  replay`` keys them (:func:`service.replay.partition_key`).

Normalizing the stream once gives the decode + normalize stage figure, the frame
the other stages start from, and the map from event id to message (for latency).
"""

from __future__ import annotations

import math
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import polars as pl

from features.columnar import normalize_messages
from features.decode import normalize_message
from features.exceptions import FeatureError
from features.schema import NormalizedEvent, parse_event_times, to_frame
from service.replay import partition_key

# Lines of the generator's test period per test day and unit of --events-per-day
# (measured: 69,296 lines over the 3.5 test days of a 14-day run at 20,000 a day).
TEST_LINES_PER_DAY_AND_RATE = 0.99
DAYS = 14  # the generator's last quarter is the test period
TEST_DAYS = DAYS / 4
TRAINING_SHARE = 7 / (DAYS - TEST_DAYS)  # train on the most recent week
CHUNK = 50_000
NODE_PREFIX = "system:node:"  # a kubelet's user name


def child_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for a child ``auditlens`` process.

    MLflow exports ``MLFLOW_TRACKING_URI`` as a side effect of loading a model in
    this process; a child must find its tracking store from its own data dir.
    """
    import os

    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return {**env, "AUDITLENS_DATA_DIR": str(data_dir), "AUDITLENS_LOG_LEVEL": "WARNING", **extra}


def cli(env: dict[str, str], *args: str, timeout_s: float = 1800) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"auditlens {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def generate(root: Path, seed: int, messages: int) -> tuple[list[bytes], Path, dict[str, float]]:
    """The stream's ``messages`` lines, the training file, and what generating took."""
    per_day = math.ceil(messages / (TEST_DAYS * TEST_LINES_PER_DAY_AND_RATE) * 1.05)
    out = root / "generated"
    started = time.perf_counter()
    cli(
        child_env(root / "data"),
        "generate",
        "--out",
        str(out),
        "--seed",
        str(seed),
        "--days",
        str(DAYS),
        "--events-per-day",
        str(per_day),
    )
    generated = time.perf_counter() - started
    stream = [line for line in (out / "test.jsonl").read_bytes().splitlines() if line.strip()]
    training_file = root / "training.jsonl"
    generated_training = _copy_tail(out / "train.jsonl", training_file, TRAINING_SHARE)
    for leftover in out.iterdir():
        leftover.unlink()
    return (
        stream[:messages],
        training_file,
        {
            "generate_seconds": generated,
            "events_per_day": float(per_day),
            "generated_lines": float(len(stream) + generated_training[0]),
            "training_lines": float(generated_training[1]),
        },
    )


def _copy_tail(source: Path, target: Path, share: float) -> tuple[int, int]:
    """Copy the last ``share`` of ``source``'s lines; (lines in source, lines copied).

    Streams the file: the generated training period can be several gigabytes.
    """
    with source.open("rb") as lines:
        total = sum(1 for _ in lines)
    skip = total - math.ceil(total * share)
    with source.open("rb") as lines, target.open("wb") as out:
        for number, line in enumerate(lines):
            if number >= skip:
                out.write(line)
    return total, total - skip


def train_model(root: Path, training_file: Path) -> tuple[Path, dict[str, float]]:
    """A promoted champion in ``root/data``; returns the data dir and what it took."""
    data_dir = root / "data"
    started = time.perf_counter()
    out = cli(child_env(data_dir), "train", "--data", str(training_file), "--promote")
    if "alias champion" not in out:
        raise RuntimeError(f"training did not promote a champion:\n{out}")
    return data_dir, {"train_seconds": time.perf_counter() - started}


@dataclass
class Workload:
    """The stream as raw messages plus everything derived from normalizing it once."""

    values: list[bytes]
    keys: list[bytes | None]
    sources: list[str | None]
    events_per_message: npt.NDArray[np.int32]
    message_of_event: dict[str, int]
    frame: pl.DataFrame
    rejected: int
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def messages(self) -> int:
        return len(self.values)

    @property
    def events(self) -> int:
        return int(self.events_per_message.sum())

    def describe(self) -> dict[str, object]:
        by_source = Counter(s for s in self.sources if s is not None)
        actors = self.frame["actor"].n_unique()
        return {
            "messages": self.messages,
            "events": self.events,
            "bytes": sum(map(len, self.values)),
            "rejected_messages": self.rejected,
            "messages_by_source": dict(sorted(by_source.items())),
            "events_by_source": dict(
                self.frame.group_by("source").len().sort("source").iter_rows()
            ),
            "actors": actors,
        }


def normalize_stream(values: list[bytes]) -> Workload:
    """Normalize every message and frame the rows, timing both paths: per message
    (``normalize_message`` then ``to_frame``) and in columns (``normalize_messages``
    then ``parse_event_times``, as the scorer does)."""
    keys: list[bytes | None] = []
    sources: list[str | None] = []
    counts = np.zeros(len(values), dtype=np.int32)
    message_of_event: dict[str, int] = {}
    frames: list[pl.DataFrame] = []
    normalize_s = frame_s = parse_s = columnar_s = 0.0
    rejected = 0
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        began = time.perf_counter()
        for value in chunk:
            orjson.loads(value)
        parse_s += time.perf_counter() - began
        began = time.perf_counter()
        normalized: list[list[NormalizedEvent]] = []
        for value in chunk:
            try:
                normalized.append(normalize_message(value))
            except FeatureError:
                normalized.append([])
        normalize_s += time.perf_counter() - began
        began = time.perf_counter()  # the scorer's path: the chunk in columns
        parse_event_times(normalize_messages(chunk, [None] * len(chunk)).frame)
        columnar_s += time.perf_counter() - began
        rows: list[NormalizedEvent] = []
        for offset, events in enumerate(normalized):
            index = start + offset
            first = events[0] if events else None
            keys.append(partition_key(first))
            sources.append(first["source"] if first else None)
            counts[index] = len(events)
            rejected += not events
            for event in events:
                message_of_event.setdefault(event["event_id"], index)
            rows.extend(events)
        began = time.perf_counter()
        frame, bad = to_frame(rows)
        frame_s += time.perf_counter() - began
        frames.append(frame)
        rejected += len(bad)
    return Workload(
        values=values,
        keys=keys,
        sources=sources,
        events_per_message=counts,
        message_of_event=message_of_event,
        frame=pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame(),
        rejected=rejected,
        timings={
            "parse_s": parse_s,
            "normalize_s": normalize_s,
            "to_frame_s": frame_s,
            "columnar_s": columnar_s,
        },
    )


def spread_entities(workload: Workload, target: int) -> tuple[list[bytes], list[bytes | None]]:
    """The stream with Kubernetes actors split into clones, for about ``target`` actors.

    Each ``user.username`` (or ``impersonatedUser.username``) becomes
    ``<name>~<k>``, the k-th clone taking that actor's next ``per_clone`` events,
    so the stream keeps its shape while the state must remember far more actors
    (the synthetic organisation has a few hundred). Nodes are left as they are:
    every node is one entity (``system:nodes``, see features.entities), so their
    clones would add names but no entities. Other sources are unchanged.
    """

    def holder_of(doc: Any) -> dict[str, Any] | None:
        holder = doc.get("impersonatedUser") or doc.get("user")
        if not isinstance(holder, dict) or not isinstance(holder.get("username"), str):
            return None
        return None if holder["username"].startswith(NODE_PREFIX) else holder

    cloned = [
        index
        for index, source in enumerate(workload.sources)
        if source == "k8s_audit" and holder_of(orjson.loads(workload.values[index])) is not None
    ]
    per_clone = max(1, len(cloned) // max(target, 1))
    values = list(workload.values)
    keys = list(workload.keys)
    seen: Counter[str] = Counter()
    for index in cloned:
        doc = orjson.loads(values[index])
        holder = holder_of(doc)
        assert holder is not None
        name = holder["username"]
        holder["username"] = f"{name}~{seen[name] // per_clone}"
        seen[name] += 1
        values[index] = orjson.dumps(doc)
        keys[index] = holder["username"].encode()
    return values, keys
