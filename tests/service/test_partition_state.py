"""Partition states on both backends: what a scorer saves, the next owner resumes from."""

from __future__ import annotations

from pathlib import Path

import pytest
from kafka import TopicPartition

from features.pipeline import FEATURE_NAMES, compute_features
from features.state import EntityState
from service.partition_state import (
    DirectorySnapshots,
    PartitionClaimedError,
    PartitionStates,
    StoreSnapshots,
)
from service.store.repository import Store
from tests.features.test_pipeline import synthetic_events

TP = TopicPartition("audit", 3)


def states(
    backend: DirectorySnapshots | StoreSnapshots, max_entries: int = 5000
) -> PartitionStates:
    return PartitionStates(backend, EntityState, max_entries)


@pytest.fixture(params=["store", "directory"])
def backends(
    request: pytest.FixtureRequest, store: Store, tmp_path: Path
) -> tuple[DirectorySnapshots | StoreSnapshots, DirectorySnapshots | StoreSnapshots]:
    """Two scorers' views of one group's snapshots (the store's rows, or a shared directory)."""
    if request.param == "store":
        return StoreSnapshots(store, "g", "scorer-a"), StoreSnapshots(store, "g", "scorer-b")
    return DirectorySnapshots(tmp_path / "state"), DirectorySnapshots(tmp_path / "state")


def test_the_next_owner_resumes_with_the_same_history_and_offset(
    backends: tuple[DirectorySnapshots | StoreSnapshots, DirectorySnapshots | StoreSnapshots],
) -> None:
    events = synthetic_events(900, seed=11)
    first, rest = events.head(600), events.slice(600)
    owner, successor = states(backends[0]), states(backends[1], max_entries=7000)
    assert owner.load(TP) is None, "nothing saved yet: a fresh seed"
    compute_features(first, owner.get(TP))
    owner.save(TP, 600)

    assert successor.load(TP) == 600
    assert successor.get(TP).max_entries == 7000, "the restoring scorer's bound applies"
    continued = compute_features(rest, successor.get(TP)).select(FEATURE_NAMES)
    assert continued.equals(compute_features(events).select(FEATURE_NAMES).slice(600))


def test_a_scorer_fenced_off_by_a_new_claim_cannot_overwrite_it(store: Store) -> None:
    stale = states(StoreSnapshots(store, "g", "scorer-a"))
    stale.load(TP)
    compute_features(synthetic_events(50, seed=1), stale.get(TP))
    stale.save(TP, 50)
    owner = states(StoreSnapshots(store, "g", "scorer-b"))
    assert owner.load(TP) == 50

    compute_features(synthetic_events(50, seed=2), stale.get(TP))
    with pytest.raises(PartitionClaimedError, match="claimed by another scorer"):
        stale.save(TP, 100)
    assert TP not in stale.states, "the fenced-off state is dropped"
    assert states(StoreSnapshots(store, "g", "scorer-c")).load(TP) == 50


def test_a_save_beside_the_scoring_thread_leaves_the_release_to_its_caller(store: Store) -> None:
    stale = states(StoreSnapshots(store, "g", "scorer-a"))
    stale.load(TP)
    states(StoreSnapshots(store, "g", "scorer-b")).load(TP)
    with pytest.raises(PartitionClaimedError):
        stale.save(TP, 10, release_when_claimed=False)
    assert stale.owns(TP), "the batch being scored keeps its state until the loop releases it"


def test_a_snapshot_left_in_the_data_directory_is_adopted_once(
    store: Store, tmp_path: Path
) -> None:
    directory = DirectorySnapshots(tmp_path / "state")
    old = states(directory)
    old.load(TP)
    compute_features(synthetic_events(80, seed=3), old.get(TP))
    old.save(TP, 80)

    upgraded = states(StoreSnapshots(store, "g", "scorer-a", legacy=directory))
    assert upgraded.load(TP) == 80
    assert upgraded.get(TP).pairs.keys() == old.get(TP).pairs.keys()
    upgraded.save(TP, 90)
    assert states(StoreSnapshots(store, "g", "scorer-b", legacy=directory)).load(TP) == 90, (
        "once the store holds the partition, the directory is not read again"
    )


def test_the_store_backend_writes_nothing_to_the_data_directory(
    store: Store, tmp_path: Path
) -> None:
    scorer = states(StoreSnapshots(store, "g", "scorer-a"))
    scorer.load(TP)
    compute_features(synthetic_events(20, seed=4), scorer.get(TP))
    scorer.save(TP, 20)
    assert not (tmp_path / "state").exists()
    (view,) = store.list_partition_states("g")
    assert (view.topic, view.partition, view.next_offset) == ("audit", 3, 20)
    assert view.snapshot_bytes > 0


def test_a_checkpoint_with_no_progress_writes_nothing(store: Store) -> None:
    scorer = states(StoreSnapshots(store, "g", "scorer-a"))
    scorer.load(TP)
    compute_features(synthetic_events(20, seed=5), scorer.get(TP))
    scorer.save(TP, 20)
    (first,) = store.list_partition_states("g")
    scorer.save(TP, 20)
    (second,) = store.list_partition_states("g")
    assert second.saved_at == first.saved_at, "the same offset is not saved again"
    scorer.save(TP, 21)
    (third,) = store.list_partition_states("g")
    assert third.next_offset == 21
