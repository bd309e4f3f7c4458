"""Store fixtures: every store test runs on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from service.store.repository import Store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path, unique_name: str) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        base_url: str = request.getfixturevalue("postgres_url")
        admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE t_{unique_name}")
        admin.dispose()
        url = base_url.rsplit("/", 1)[0] + f"/t_{unique_name}"
    store = Store(url)
    store.create_schema()
    yield store
    store.close()


def anomaly_row(event_id: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "event_key": f"k8s_audit:{event_id}",
        "event_id": event_id,
        "source": "k8s_audit",
        "event_time": datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
        "actor": "alice",
        "actor_type": "user",
        "action": "create",
        "resource": "clusterrolebindings",
        "object": "x",
        "namespace": None,
        "outcome": "allow",
        "source_ip": "10.0.0.1",
        "user_agent": "kubectl",
        "policy": None,
        "score": 70.0,
        "severity": "high",
        "is_anomaly": True,
        "explanation": [
            {"feature": "touches_rbac", "value": 1.0, "typical": 0.0, "contribution": 0.8}
        ],
        "summary": "alice create clusterrolebindings",
        "model_name": "auditlens",
        "model_version": "1",
        "status": "new",
        "raw": "{}",
    }
    row.update(overrides)
    return row
