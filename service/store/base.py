"""The store's engine, sessions and schema; the operations live in one mixin per resource."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import sessionmaker

from service.store.engine import make_engine
from service.store.migrate import migrate


class StoreBase:
    """One engine and its session factory; safe to share between threads."""

    def __init__(self, url: str, connect_timeout_s: float = 5.0) -> None:
        self.url = url
        self.engine: Engine = make_engine(url, connect_timeout_s)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def create_schema(self) -> None:
        """Apply the migrations up to the newest revision (idempotent, safe to race)."""
        migrate(self.engine)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            return True
        except Exception:
            return False

    def close(self) -> None:
        self.engine.dispose()

    def insert_ignoring_conflicts(self, table: Any, key: str | list[str]) -> Any:
        """``INSERT … ON CONFLICT (key) DO NOTHING`` in this store's dialect."""
        dialect = postgresql if self.is_postgres else sqlite
        columns = [key] if isinstance(key, str) else key
        return dialect.insert(table).on_conflict_do_nothing(index_elements=columns)
