"""Partition state rows: a claim moves the fence, only the current owner's save lands."""

from __future__ import annotations

import threading

from service.store.repository import Store


def test_a_first_claim_finds_nothing_saved(store: Store) -> None:
    claimed = store.claim_partition("g", "audit", 0, "scorer-a")
    assert (claimed.epoch, claimed.next_offset, claimed.snapshot) == (1, None, None)


def test_a_claim_returns_the_last_save_and_fences_the_previous_owner(store: Store) -> None:
    first = store.claim_partition("g", "audit", 0, "scorer-a")
    assert store.save_partition("g", "audit", 0, first.epoch, 120, b"state at 120")

    second = store.claim_partition("g", "audit", 0, "scorer-b")
    assert second.epoch == first.epoch + 1
    assert (second.next_offset, second.snapshot) == (120, b"state at 120")

    assert not store.save_partition("g", "audit", 0, first.epoch, 150, b"stale"), (
        "the previous owner's save must be refused"
    )
    assert store.save_partition("g", "audit", 0, second.epoch, 140, b"state at 140")
    assert store.claim_partition("g", "audit", 0, "scorer-a").snapshot == b"state at 140"


def test_partitions_and_groups_are_kept_apart(store: Store) -> None:
    for group, partition, offset in (("g", 0, 10), ("g", 1, 20), ("h", 0, 30)):
        epoch = store.claim_partition(group, "audit", partition, "s").epoch
        store.save_partition(
            group, "audit", partition, epoch, offset, f"{group}{partition}".encode()
        )
    views = store.list_partition_states("g")
    assert [(v.partition, v.next_offset, v.snapshot_bytes) for v in views] == [
        (0, 10, 2),
        (1, 20, 2),
    ]
    assert store.claim_partition("h", "audit", 0, "s").snapshot == b"h0"


def test_racing_first_claims_give_distinct_epochs(store: Store) -> None:
    epochs: list[int] = []
    errors: list[BaseException] = []

    def claim(owner: str) -> None:
        try:
            epochs.append(store.claim_partition("g", "race", 0, owner).epoch)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=claim, args=(f"s{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sorted(epochs) == [1, 2, 3, 4]
