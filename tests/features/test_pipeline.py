"""The feature pipeline's central promise: one definition, identical in batch and stream."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from features.pipeline import (
    FEATURE_NAMES,
    compute_features,
    compute_features_chunked,
    compute_features_of_parts,
)
from features.schema import NORMALIZED_SCHEMA
from features.state import EntityState


def synthetic_events(n: int, seed: int = 0) -> pl.DataFrame:
    """Normalized events from a few actors, with repeats, denials and policy failures."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 3, 2, tzinfo=UTC)
    seconds = np.sort(rng.uniform(0, 3 * 86400, n))
    actors = np.array(["alice", "bob", "system:serviceaccount:ci:deployer", "carol"])
    sources = np.array(["k8s_audit", "cloudtrail", "kyverno"])
    return pl.DataFrame(
        {
            "event_id": [f"e{i:06d}" for i in range(n)],
            "source": rng.choice(sources, n),
            "event_time": [start + timedelta(seconds=float(s)) for s in seconds],
            "actor": rng.choice(actors, n),
            "actor_type": "user",
            "action": rng.choice(["get", "list", "create", "delete", "iam:AttachUserPolicy"], n),
            "resource": rng.choice(["pods", "secrets", "clusterrolebindings", "pods/exec"], n),
            "object": "x",
            "namespace": rng.choice(np.array(["dev", "prod", ""]), n).tolist(),
            "outcome": rng.choice(["allow", "deny", "fail", "pass"], n, p=[0.7, 0.1, 0.1, 0.1]),
            "source_ip": rng.choice(["10.0.0.1", "10.0.0.2", "203.0.113.9"], n),
            "user_agent": rng.choice(["kubectl", "aws-cli"], n),
            "policy": None,
            "severity": None,
            "raw": "{}",
        },
        schema=NORMALIZED_SCHEMA,
    ).with_columns(pl.col("namespace").replace("", None))


def test_every_feature_is_a_finite_float() -> None:
    events = synthetic_events(500)
    features = compute_features(events)
    added = set(features.columns) - set(events.columns)
    assert added == set(FEATURE_NAMES), "every computed feature is named, and only those"
    matrix = features.select(FEATURE_NAMES).to_numpy()
    assert matrix.dtype == np.float64
    assert np.isfinite(matrix).all()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_micro_batches_of_random_sizes_match_one_batch(seed: int) -> None:
    events = synthetic_events(1200, seed=seed)
    whole = compute_features(events).select("event_id", *FEATURE_NAMES)
    rng = np.random.default_rng(seed)
    state = EntityState()
    parts = []
    offset = 0
    while offset < events.height:
        size = int(rng.integers(1, 200))
        parts.append(compute_features(events.slice(offset, size), state))
        offset += size
    streamed = pl.concat(parts).select("event_id", *FEATURE_NAMES)
    assert streamed.equals(whole)


def test_state_snapshot_round_trip_keeps_history(tmp_path: Path) -> None:
    events = synthetic_events(800, seed=4)
    first, second = events.head(500), events.slice(500)
    state = EntityState()
    compute_features(first, state)
    state.snapshot(tmp_path / "state")
    restored = EntityState.restore(tmp_path / "state")
    continued = compute_features(second, restored).select(FEATURE_NAMES)
    expected = compute_features(events).select(FEATURE_NAMES).slice(500)
    assert continued.equals(expected)


def test_state_as_one_archive_round_trip_keeps_history_and_metadata() -> None:
    events = synthetic_events(800, seed=5)
    state = EntityState()
    compute_features(events.head(500), state)
    restored = EntityState.from_bytes(state.to_bytes({"next_offset": "500"}))
    assert restored.metadata == {"next_offset": "500"}
    continued = compute_features(events.slice(500), restored).select(FEATURE_NAMES)
    assert continued.equals(compute_features(events).select(FEATURE_NAMES).slice(500))


def test_a_snapshot_with_zstd_tables_from_an_earlier_release_restores() -> None:
    events = synthetic_events(800, seed=5)
    state = EntityState()
    compute_features(events.head(500), state)
    files = state.entries({"next_offset": "500"})
    for name in [n for n in files if n.endswith(".parquet")]:
        buffer = io.BytesIO()
        pl.read_parquet(io.BytesIO(files[name])).write_parquet(buffer, compression="zstd")
        files[name] = buffer.getvalue()
    restored = EntityState.from_entries(files)
    continued = compute_features(events.slice(500), restored).select(FEATURE_NAMES)
    assert continued.equals(compute_features(events).select(FEATURE_NAMES).slice(500))


def test_first_seen_and_window_counts_mean_what_they_say() -> None:
    base = synthetic_events(1).row(0, named=True)
    t0 = base["event_time"]
    rows = [
        {**base, "event_id": "a", "actor": "eve", "event_time": t0, "outcome": "deny"},
        {
            **base,
            "event_id": "b",
            "actor": "eve",
            "event_time": t0 + timedelta(minutes=1),
            "outcome": "deny",
        },
        {
            **base,
            "event_id": "c",
            "actor": "eve",
            "event_time": t0 + timedelta(minutes=2),
            "outcome": "allow",
        },
        {
            **base,
            "event_id": "d",
            "actor": "eve",
            "event_time": t0 + timedelta(minutes=30),
            "outcome": "allow",
        },
    ]
    features = compute_features(pl.DataFrame(rows, schema=NORMALIZED_SCHEMA))
    assert features["first_in_environment"].to_list() == [1.0, 0.0, 0.0, 0.0]
    assert features["denials_10m"].to_list() == [0.0, 1.0, 2.0, 0.0]
    assert features["denial_burst_then_allow"].to_list() == [0.0, 0.0, 2.0, 0.0]


def test_input_row_order_is_kept() -> None:
    events = synthetic_events(300, seed=5)
    shuffled = events.sample(fraction=1.0, shuffle=True, seed=9)
    features = compute_features(shuffled)
    assert features["event_id"].to_list() == shuffled["event_id"].to_list()


def test_chunked_lazy_path_equals_eager(tmp_path: Path) -> None:
    events = synthetic_events(1000, seed=6)
    path = tmp_path / "events.parquet"
    events.write_parquet(path)
    chunked = pl.concat(compute_features_chunked(pl.scan_parquet(path), chunk_rows=137))
    whole = compute_features(events)
    assert chunked.select("event_id", *FEATURE_NAMES).equals(
        whole.select("event_id", *FEATURE_NAMES)
    )


def _tables(state: EntityState) -> dict[str, pl.DataFrame]:
    return {f"pairs.{k}": v for k, v in state.pairs.items()} | {
        f"tails.{k}": v for k, v in state.tails.items()
    }


def _same_history(one: EntityState, other: EntityState) -> bool:
    mine, theirs = _tables(one), _tables(other)
    return mine.keys() == theirs.keys() and all(mine[k].equals(theirs[k]) for k in mine)


@pytest.mark.parametrize("seed", [11, 12])
def test_streams_featurized_together_match_each_featurized_alone(seed: int) -> None:
    """Several streams in one call (a scorer's partitions): each row as its stream alone
    would have it, and each state advanced as that stream alone would advance it, over
    several batches, with a stream absent from some batches."""
    rng = np.random.default_rng(seed)
    events = synthetic_events(3000, seed=seed).with_columns(
        pl.Series("stream", rng.integers(0, 3, 3000), dtype=pl.UInt32)
    )
    together = [EntityState() for _ in range(3)]
    alone = [EntityState() for _ in range(3)]
    offset = 0
    for size in (40, 700, 5, 900, 1355):
        batch = events.slice(offset, size)
        if size == 900:  # stream 1 sends nothing in this batch
            batch = batch.filter(pl.col("stream") != 1)
        offset += size
        joint = compute_features_of_parts(batch, "stream", together)
        assert joint["event_id"].equals(batch["event_id"]), "rows stay in input order"
        for stream, state in enumerate(alone):
            own = batch.filter(pl.col("stream") == stream)
            expected = compute_features(own, state).select("event_id", *FEATURE_NAMES)
            got = joint.filter(pl.col("stream") == stream).select("event_id", *FEATURE_NAMES)
            assert got.equals(expected), f"stream {stream}, batch of {size}"
    for one, other in zip(together, alone, strict=True):
        assert _same_history(one, other)


def test_a_row_of_a_stream_without_a_state_is_refused() -> None:
    events = synthetic_events(10).with_columns(pl.lit(2, dtype=pl.UInt32).alias("stream"))
    with pytest.raises(ValueError, match="names stream 2"):
        compute_features_of_parts(events, "stream", [EntityState(), EntityState()])


def test_state_is_bounded() -> None:
    state = EntityState(max_entries=50)
    compute_features(synthetic_events(2000, seed=7), state)
    for table in state.pairs.values():
        assert table.group_by("history").len()["len"].max() <= 50


def test_eviction_keeps_the_most_recent_keys_findable() -> None:
    """Evicting must keep the keys in order: a key kept is still found, one dropped is new."""
    events = synthetic_events(2000, seed=7)
    bounded, unbounded = EntityState(max_entries=30), EntityState()
    compute_features(events, bounded)
    compute_features(events, unbounded)
    assert bounded.evict() == 0, "already evicted after the batch"
    for table in bounded.pairs.values():
        assert table["key"].is_sorted()
    assert unbounded.pairs["counts"].height > bounded.pairs["counts"].height, "some were evicted"
    # The last event's keys are the most recently seen: kept, with their full counts.
    later = events.tail(1).with_columns(pl.col("event_time") + timedelta(seconds=1))
    again = compute_features(later, bounded)
    reference = compute_features(later, unbounded)
    for feature in ("action_surprise", "source_ip_surprise", "rate_1h_vs_baseline"):
        assert again[feature].equals(reference[feature]), feature


def test_an_empty_batch_changes_nothing() -> None:
    state = EntityState()
    compute_features(synthetic_events(300, seed=5), state)
    before = {name: table.clone() for name, table in state.pairs.items()}
    out = compute_features(synthetic_events(300, seed=5).head(0), state)
    assert out.height == 0
    assert all(state.pairs[name].equals(table) for name, table in before.items())


def test_a_snapshot_of_another_key_scheme_is_not_restored(tmp_path: Path) -> None:
    state = EntityState()
    compute_features(synthetic_events(300, seed=6), state)
    state.key_scheme = "polars-hash-0000000000000000"
    state.snapshot(tmp_path / "state", {"offset": "12"})
    restored = EntityState.restore(tmp_path / "state")
    assert restored.pairs == {}
    assert restored.metadata == {}
    from_archive = EntityState.from_bytes(state.to_bytes({"offset": "12"}))
    assert (from_archive.pairs, from_archive.metadata) == ({}, {})


def test_a_state_of_another_key_scheme_is_refused() -> None:
    state = EntityState(key_scheme="polars-hash-0000000000000000")
    with pytest.raises(ValueError, match="matches nothing"):
        compute_features(synthetic_events(10), state)


def test_a_late_event_older_than_the_history_is_scored_not_rejected() -> None:
    events = synthetic_events(400, seed=8)
    state = EntityState()
    compute_features(events.slice(200), state)  # the later half first
    late = compute_features(events.head(200), state)  # then events older than all of it
    assert late.height == 200
    assert np.isfinite(late.select(FEATURE_NAMES).to_numpy()).all()


def test_the_state_counts_the_entities_it_remembers() -> None:
    """Four actors, of which the assumed-role sessions of one role are a single entity."""
    events = synthetic_events(300, seed=9).with_columns(
        pl.when(pl.col("actor") == "bob")
        .then(pl.format("Deployer/i-{}", pl.int_range(pl.len()) % 7))
        .otherwise(pl.col("actor"))
        .alias("actor"),
        pl.when(pl.col("actor") == "bob")
        .then(pl.lit("role"))
        .otherwise(pl.col("actor_type"))
        .alias("actor_type"),
        pl.when(pl.col("actor") == "bob")
        .then(pl.lit("cloudtrail"))
        .otherwise(pl.col("source"))
        .alias("source"),
    )
    state = EntityState()
    compute_features(events, state)
    assert state.entity_count == 4
