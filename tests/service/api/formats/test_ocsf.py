"""OCSF Detection Findings validate against the official OCSF 1.5.0 schema.

The schema is OCSF's own export, packaged by ``ocsf-json-schema`` (the JSON Schema
a SIEM generates from schema.ocsf.io), checked with ``jsonschema``: every
attribute must exist in the class or object that holds it, with its type, and
every required or at-least-one constraint must hold.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from hypothesis import given, settings

from service.api.formats import ocsf
from service.api.schemas.anomalies import AnomalyDetail, AnomalyPublic
from service.store.repository import Store
from tests.conformance import ocsf_errors as errors
from tests.service.api.formats.conftest import anomalies
from tests.service.api.test_formats import store_two
from tests.service.conftest import auth


@settings(max_examples=300, deadline=None)
@given(anomaly=anomalies())
def test_every_finding_validates_against_the_official_schema(anomaly: AnomalyDetail) -> None:
    summary = AnomalyPublic.model_validate(anomaly.model_dump(exclude={"raw"}))
    assert errors(ocsf.finding(summary, "0.1.0")) == []
    detail = {**ocsf.finding(anomaly, "0.1.0"), "raw_data": anomaly.raw}
    assert errors(detail) == []


def test_the_validator_refuses_what_the_schema_forbids() -> None:
    # Not vacuous: the mistakes a hand-made mapping makes are caught.
    [example] = AnomalyPublic.model_json_schema()["examples"]
    anomaly = AnomalyPublic.model_validate(example)
    good = ocsf.finding(anomaly, "0.1.0")
    assert errors(good) == []
    assert errors({**good, "actor": {"user": {"name": "alice"}}}) == [
        "<root>: Additional properties are not allowed ('actor' was unexpected)"
    ]
    nameless = {**good, "resources": [{"type": "pods"}]}
    assert errors(nameless), "a resource needs a name or a uid"
    assert errors({**good, "severity_id": "high"})


def test_the_feed_serves_valid_findings(client: TestClient, store: Store) -> None:
    store_two(store)  # one anomaly with every field, one with none of the optional ones
    feed = client.get("/v1/anomalies", params={"format": "ocsf"}, headers=auth(store)).json()
    assert len(feed["items"]) == 2
    for finding in feed["items"]:
        assert errors(finding) == []
        one = client.get(
            f"/v1/anomalies/{finding['metadata']['uid']}",
            params={"format": "ocsf"},
            headers=auth(store),
        ).json()
        assert one["raw_data"]
        assert errors(one) == []
