"""ECS alert documents use only fields of the ECS version they declare, with their types.

The reference is ECS's own field list (``tests/fixtures/reference/ecs``, from
elastic/ecs ``generated/csv/fields.csv``). Every leaf of a document must be an ECS
field of a matching type, or sit under an object ECS leaves open (``labels``) or
under auditlens' own namespace (``auditlens.*``), as ECS asks of custom fields.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from hypothesis import given, settings

from service.api.formats import ecs
from service.api.schemas.anomalies import AnomalyDetail, AnomalyPublic
from service.store.repository import Store
from tests.conformance import ecs_violations as violations
from tests.service.api.formats.conftest import anomalies
from tests.service.conftest import anomaly_row, auth


@settings(max_examples=300, deadline=None)
@given(anomaly=anomalies())
def test_every_document_uses_only_ecs_fields_of_their_types(anomaly: AnomalyDetail) -> None:
    summary = AnomalyPublic.model_validate(anomaly.model_dump(exclude={"raw"}))
    assert violations(ecs.document(summary)) == []


def test_the_check_refuses_what_ecs_does_not_define() -> None:
    [example] = AnomalyPublic.model_json_schema()["examples"]
    good = ecs.document(AnomalyPublic.model_validate(example))
    assert violations(good) == []
    assert violations({**good, "actor": "alice"}) == [f"actor: not an ECS {ecs.ECS_VERSION} field"]
    assert violations({**good, "source": {"ip": "lb.internal"}}) == [
        "source.ip: 'lb.internal' is not of ECS type ip"
    ]
    assert violations({**good, "event": {**good["event"], "severity": "high"}}) == [
        "event.severity: 'high' is not of ECS type long"
    ]
    assert violations({**good, "event": {**good["event"], "kind": ["alert"]}}) == [
        "event.kind: ECS does not make this field an array"
    ]


def test_the_feed_serves_ecs_documents(client: TestClient, store: Store) -> None:
    store.insert_anomalies([anomaly_row("a", namespace="prod"), anomaly_row("b", source="falco")])
    feed = client.get("/v1/anomalies", params={"format": "ecs"}, headers=auth(store)).json()
    assert len(feed["items"]) == 2
    for document in feed["items"]:
        assert document["ecs"]["version"] == ecs.ECS_VERSION
        assert violations(document) == []
