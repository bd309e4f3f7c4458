"""Service fixtures: every store (and API) test runs on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from features.decode import normalize_document
from features.pipeline import FEATURE_NAMES, FEATURE_SET_VERSION, compute_features
from features.schema import to_frame
from features.state import EntityState
from models.bundle import LoadedModel, ScoringModel
from service.api.app import create_app
from service.api.scoring_model import ModelProvider
from service.config import Settings
from service.store.repository import Store


def wait_until(condition: Callable[[], bool], timeout_s: float) -> None:
    """Poll ``condition`` until it holds; AssertionError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        time.sleep(0.01)


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


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Defaults for what the tests rely on, whatever the environment says."""
    return Settings(
        data_dir=tmp_path / "data",
        api_max_body_bytes=1_048_576,
        score_max_events=1000,
        webhook_allow_private=False,
    )


NO_MODEL_HINT = "no version of auditlens carries the alias 'champion'"


def fake_dns(host: str, port: int) -> list[str]:
    """Test names resolve without any network: ``*.example.com`` is public, ``*.internal``
    private, an IP literal is itself, anything else does not exist."""
    if host.endswith(".example.com"):
        return ["93.184.215.14"]
    if host.endswith(".internal"):
        return ["10.20.30.40"]
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        raise OSError(f"[Errno -2] Name or service not known: {host}") from None


def make_client(store: Store, settings: Settings, model: LoadedModel | None = None) -> TestClient:
    """The app over ``store``; ``model`` is what ``POST /v1/score`` scores with."""
    provider = ModelProvider(None, load=lambda: model, unavailable_hint=NO_MODEL_HINT)
    app = create_app(store, settings=settings, model_provider=provider, resolver=fake_dns)
    return TestClient(app)


@pytest.fixture
def client(store: Store, settings: Settings) -> Iterator[TestClient]:
    with make_client(store, settings) as test_client:
        yield test_client


def auth(store: Store, role: str = "reader") -> dict[str, str]:
    """Headers with a fresh key of ``role``."""
    return {"Authorization": f"Bearer {store.create_api_key(role)}"}


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


def webhook_values(**overrides: Any) -> dict[str, Any]:
    """An endpoint as the store takes it (the API validates before this)."""
    values: dict[str, Any] = {
        "url": "http://127.0.0.1:9/hook",
        "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "min_severity": "low",
        "source": None,
        "namespace": None,
        "actor": None,
        "payload_format": "standard",
        "group_window_s": 0,
    }
    values.update(overrides)
    return values


def k8s_event(
    event_id: str,
    when: datetime,
    user: str = "alice@example.com",
    verb: str = "get",
    resource: str = "pods",
    namespace: str | None = "team-a",
    name: str = "web-1",
    code: int = 200,
) -> dict[str, Any]:
    """A raw ``audit.k8s.io/v1`` event at stage ResponseComplete."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    object_ref: dict[str, Any] = {"resource": resource, "name": name, "apiVersion": "v1"}
    if namespace:
        object_ref["namespace"] = namespace
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": event_id,
        "stage": "ResponseComplete",
        "requestURI": f"/api/v1/{resource}",
        "verb": verb,
        "user": {"username": user, "groups": ["system:authenticated"]},
        "sourceIPs": ["10.0.0.7"],
        "userAgent": "kubectl/v1.30.0",
        "objectRef": object_ref,
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": stamp,
        "stageTimestamp": stamp,
    }


@pytest.fixture(scope="session")
def scoring_model() -> LoadedModel:
    """A small model of a quiet cluster: a few users reading pods in office hours."""
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    raw = [
        k8s_event(
            f"train-{i}",
            start + timedelta(days=i % 5, hours=(i * 7) % 9, minutes=i % 60),
            user=f"user{i % 6}@example.com",
            verb=("get", "list", "watch")[i % 3],
            namespace=f"team-{i % 3}",
        )
        for i in range(2000)
    ]
    events = [row for event in raw for row in normalize_document(event)]
    frame, _ = to_frame(events)
    frame = frame.sort("event_time", "event_id", maintain_order=True)
    state = EntityState()
    features = compute_features(frame, state)
    model = ScoringModel.train(
        features,
        FEATURE_NAMES,
        FEATURE_SET_VERSION,
        detector_names=("iforest", "autoencoder"),
        seed=0,
        baseline_state=state,
    )
    return LoadedModel(model=model, name="auditlens", version="7")
