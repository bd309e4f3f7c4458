from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.api.schemas.anomalies import AnomalyDetail
from service.store.outbox import AlertContent
from service.store.repository import AnomalyFilter, Store
from service.webhooks.payloads import render
from tests.conformance import alertmanager_errors as schema_errors
from tests.service.api.formats.conftest import anomalies
from tests.service.conftest import anomaly_row

CREATED = datetime(2026, 3, 2, 10, 0, 5, tzinfo=UTC)


@pytest.fixture
def content(store: Store) -> AlertContent:
    store.insert_anomalies([anomaly_row("p", namespace="prod", severity="critical", score=88.0)])
    [anomaly] = store.list_anomalies(AnomalyFilter(), 1)[0]
    return AlertContent(
        message_id="msg_1",
        created_at=CREATED,
        payload_format="standard",
        anomaly=anomaly,
        count=3,
        anomaly_ids=[anomaly.id, 11, 12],
    )


def test_standard_is_an_anomaly_created_event_with_the_api_record(
    content: AlertContent,
) -> None:
    body = orjson.loads(render(content))
    assert body["type"] == "anomaly.created"
    assert body["timestamp"] == "2026-03-02T10:00:05+00:00"
    data = body["data"]
    assert (data["event_id"], data["severity"], data["count"]) == ("p", "critical", 3)
    assert data["anomaly_ids"] == [content.anomaly.id, 11, 12]
    assert data["model"] == {"name": "auditlens", "version": "1"}
    assert data["explanation"][0]["feature"] == "touches_rbac"


def test_slack_has_text_and_blocks(content: AlertContent) -> None:
    body = orjson.loads(render(AlertContent(**{**content.__dict__, "payload_format": "slack"})))
    assert (
        body["text"] == "auditlens anomaly [critical] alice create clusterrolebindings (3 similar)"
    )
    assert (
        body["blocks"][0]["text"]["text"]
        == "*[critical] alice create clusterrolebindings (3 similar)*"
    )
    assert "`touches_rbac`: 1 (typical 0)" in body["blocks"][2]["text"]["text"]


def test_alertmanager_is_a_version_4_webhook(content: AlertContent) -> None:
    body = orjson.loads(
        render(AlertContent(**{**content.__dict__, "payload_format": "alertmanager"}))
    )
    assert set(body) == {
        "version",
        "groupKey",
        "truncatedAlerts",
        "status",
        "receiver",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "alerts",
    }
    assert (body["version"], body["status"], body["truncatedAlerts"]) == ("4", "firing", 0)
    [alert] = body["alerts"]
    assert set(alert) == {
        "status",
        "labels",
        "annotations",
        "startsAt",
        "endsAt",
        "generatorURL",
        "fingerprint",
    }
    assert alert["labels"] == {
        "alertname": "AuditlensAnomaly",
        "severity": "critical",
        "source": "k8s_audit",
        "actor": "alice",
        "namespace": "prod",
        "feature": "touches_rbac",
    }
    assert all(isinstance(v, str) for v in {**alert["labels"], **alert["annotations"]}.values())
    assert alert["startsAt"] == "2026-03-02T10:00:00Z"
    assert alert["endsAt"] == "0001-01-01T00:00:00Z"
    assert body["groupLabels"] == {"actor": "alice", "feature": "touches_rbac"}
    assert body["groupKey"] == '{}:{actor="alice", feature="touches_rbac"}'
    assert alert["annotations"]["count"] == "3"


@settings(max_examples=200, deadline=None)
@given(anomaly=anomalies(), count=st.integers(1, 1000))
def test_every_alertmanager_payload_matches_the_webhook_format(
    anomaly: AnomalyDetail, count: int
) -> None:
    # The stored row's shape: explanation as plain dicts, the model as two columns.
    fields = anomaly.model_dump(exclude={"model"})
    row = SimpleNamespace(
        **fields, model_name=anomaly.model.name, model_version=anomaly.model.version
    )
    body = orjson.loads(
        render(AlertContent("msg_1", CREATED, "alertmanager", row, count, [anomaly.id]))  # type: ignore[arg-type]
    )
    assert schema_errors(body) == []
    # The group key is Alertmanager's: label values quoted as Go quotes them.
    for name, value in body["groupLabels"].items():
        assert f"{name}={orjson.dumps(value).decode()}" in body["groupKey"]


def test_the_alertmanager_schema_is_not_vacuous(content: AlertContent) -> None:
    body = orjson.loads(
        render(AlertContent(**{**content.__dict__, "payload_format": "alertmanager"}))
    )
    assert schema_errors(body) == []
    [alert] = body["alerts"]
    assert schema_errors({**body, "version": 4})
    assert schema_errors({**body, "alerts": [{**alert, "labels": {"bad-name": "x"}}]})
    assert schema_errors({**body, "alerts": [{**alert, "startsAt": "yesterday"}]})
    assert schema_errors({**body, "commonAnnotations": {"score": 88.0}})
