"""Bring a store's schema to the newest revision with its Alembic migrations.

Every process that opens the store calls :func:`migrate` (through
``Store.create_schema()``), so two processes may race: on PostgreSQL the
migration holds a transaction-level advisory lock, on SQLite it runs inside
``BEGIN IMMEDIATE`` (the write lock), and in both cases the whole upgrade is one
transaction. A database created before migrations existed (tables present, no
``alembic_version``) is stamped with the first revision, which is exactly the
schema it holds, and upgraded from there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

MIGRATIONS = Path(__file__).parent / "migrations"
BASELINE = "0001"
# pg_advisory_xact_lock key: the bytes of "auditlen" as a signed 64-bit integer.
_PG_LOCK_KEY = int.from_bytes(b"auditlen", "big", signed=True)


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade to ``revision`` (default: the newest)."""
    _run(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade to ``revision`` (``base`` removes every table)."""
    _run(engine, lambda config: command.downgrade(config, revision))


def _run(engine: Engine, action: Callable[[Config], object]) -> None:
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            # Batch migrations rebuild tables; with foreign keys enforced the
            # DROP of a rebuilt table would cascade into its children.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
        try:
            tables = set(inspect(conn).get_table_names())
            config = alembic_config(conn)
            if "alembic_version" not in tables and "anomalies" in tables:
                command.stamp(config, BASELINE)
            action(config)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
