"""Engines for the two supported backends: SQLite (WAL, the default) and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

# How long a statement waits for another process's lock on the file. Processes that
# start together on a new file queue behind the first one's migration, which holds
# the write lock for seconds on a busy machine: sqlite3's default of 5 s failed there.
SQLITE_BUSY_TIMEOUT_S = 30.0


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    """WAL lets readers run beside the one writer; foreign keys make cascades work.

    The busy timeout is the connection's (see ``make_engine``), so it covers these
    pragmas too: switching a new file to WAL waits for the write lock.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str, connect_timeout_s: float = 5.0) -> Engine:
    """An engine whose connection attempts give up after ``connect_timeout_s``.

    A PostgreSQL that is down or unreachable then fails a call within seconds
    (``pool_pre_ping`` replaces connections a restart has broken) instead of waiting
    for the operating system's TCP timeout.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_timeout=connect_timeout_s,
        connect_args={"connect_timeout": max(1, round(connect_timeout_s))},
    )
