"""The SQLite engine: concurrent processes wait for each other's locks."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import text

from service.store.engine import make_engine

LOCK_HELD_S = 6.0  # longer than sqlite3's own default timeout of 5 s


def test_a_new_connection_waits_for_a_write_lock_held_longer_than_sqlite3s_default(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.db"
    locked = threading.Event()

    def hold_the_write_lock() -> None:
        # A file still in rollback-journal mode, as a new store is before its first
        # connection switches it to WAL, written by another "process" for a while.
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("CREATE TABLE t (x INTEGER)")
        other.execute("BEGIN EXCLUSIVE")
        other.execute("INSERT INTO t VALUES (1)")
        locked.set()
        time.sleep(LOCK_HELD_S)
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    assert locked.wait(10)
    engine = make_engine(f"sqlite:///{path}")
    try:
        started = time.monotonic()
        with engine.connect() as connection:
            mode = connection.execute(text("PRAGMA journal_mode")).scalar()
            rows = connection.execute(text("SELECT count(*) FROM t")).scalar()
        waited = time.monotonic() - started
    finally:
        holder.join()
        engine.dispose()
    assert (mode, rows) == ("wal", 1)
    assert waited >= LOCK_HELD_S - 1.0  # it waited for the lock rather than failing
