"""The feed cursor under concurrent writers: every record exactly once."""

from __future__ import annotations

import base64
import random
import threading
import time

import pytest
from sqlalchemy import insert, update

from service.store.anomalies import AnomalyFilter
from service.store.repository import Store
from service.store.tables import Anomaly
from tests.service.conftest import anomaly_row, wait_until


def pull(store: Store, cursor: str | None, limit: int = 7) -> tuple[list[int], str | None]:
    """Follow the cursor until a page comes back short; return the ids and the last cursor."""
    ids: list[int] = []
    while True:
        items, cursor, has_more = store.list_anomalies(AnomalyFilter(), limit, cursor)
        ids.extend(i.id for i in items)
        if not has_more:
            return ids, cursor


def test_a_transaction_committing_late_is_not_skipped(store: Store) -> None:
    """T1 takes the lower id but commits after T2: the reader must still get both, once."""
    if not store.is_postgres:
        pytest.skip("SQLite has a single writer: commit order is id order")
    early = store.engine.connect()
    transaction = early.begin()
    early.execute(insert(Anomaly), [anomaly_row("slow")])
    store.insert_anomalies([anomaly_row("fast")])  # commits first, with the higher id
    seen, cursor = pull(store, None)
    assert seen == []  # held back while an older transaction is still open
    transaction.commit()
    early.close()
    later, cursor = pull(store, cursor)
    by_event = {a.id: a.event_id for a in store.list_anomalies(AnomalyFilter(), 10)[0]}
    assert [by_event[i] for i in later] == ["slow", "fast"]
    assert pull(store, cursor)[0] == []


def test_reader_gets_every_record_once_while_writers_commit(store: Store) -> None:
    """Writers commit concurrently (on PostgreSQL some hold their transaction open a
    while, as a slow scorer would) while a SIEM pulls with the cursor in a loop."""
    writers = 6 if store.is_postgres else 1
    batches, batch_size = 25, 4
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        rng = random.Random(worker)
        try:
            for batch in range(batches):
                rows = [anomaly_row(f"w{worker}-{batch}-{i}") for i in range(batch_size)]
                if worker % 2:
                    with store.engine.begin() as conn:  # ids taken now, committed later
                        conn.execute(insert(Anomaly), rows)
                        time.sleep(rng.uniform(0, 0.02))
                else:
                    store.insert_anomalies(rows)
                time.sleep(rng.uniform(0, 0.004))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    received: list[int] = []
    cursor: str | None = None
    deadline = time.monotonic() + 60
    writing = True
    while writing and time.monotonic() < deadline:
        writing = any(t.is_alive() for t in threads)  # one more pull after the last commit
        ids, cursor = pull(store, cursor, limit=5)
        received.extend(ids)
    for thread in threads:
        thread.join()
    assert errors == []
    expected = writers * batches * batch_size
    assert len(set(received)) == len(received), "a record was received twice"
    assert len(received) == expected, "a record was skipped"
    assert store.count_anomalies() == expected


def test_a_cursor_issued_before_transaction_ids_still_resumes(store: Store) -> None:
    """Rows stored before the migration carry xact_id 0, so ``v1:<id>`` maps exactly."""
    store.insert_anomalies([anomaly_row(f"old{i}") for i in range(3)])
    with store.engine.begin() as conn:  # as the migration left rows stored before it
        conn.execute(update(Anomaly).values(xact_id=0))
    first_id = min(i.id for i in store.list_anomalies(AnomalyFilter(), 10)[0])
    legacy = base64.urlsafe_b64encode(f"v1:{first_id}".encode()).decode().rstrip("=")
    store.insert_anomalies([anomaly_row("new")])
    # A transaction open anywhere in the PostgreSQL cluster (another test's, on its own
    # database) holds the horizon back and delays, never drops, the newer row.
    pages: list[list[str]] = []

    def past_the_old_rows() -> bool:
        items, _, _ = store.list_anomalies(AnomalyFilter(), 10, legacy)
        pages.append([i.event_id for i in items])
        return pages[-1] != ["old1", "old2"]

    wait_until(past_the_old_rows, timeout_s=60.0)
    assert pages[-1] == ["old1", "old2", "new"]
