"""Alembic environment: runs on the connection :func:`service.store.migrate.migrate` passes in.

There is no ``alembic.ini`` and no offline (SQL script) mode: the service applies
its own migrations at start, inside one transaction (PostgreSQL has
transactional DDL; SQLite batch mode rebuilds tables where ALTER cannot).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from service.store.tables import Base


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    if context.is_offline_mode():
        raise RuntimeError("auditlens migrations run online only, through `Store.create_schema()`")
    run_migrations(context.config.attributes["connection"])


# Alembic executes this file with its context installed; a plain import (doctest
# collection, tooling) must not try to migrate anything.
if getattr(context, "_proxy", None) is not None:
    _main()
