"""``POST /v1/score``: synchronous scoring of raw events; nothing is stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import orjson
import pytest
from fastapi.testclient import TestClient

from features.decode import normalize_document
from features.schema import to_frame
from models.bundle import LoadedModel
from service.config import Settings
from service.scoring import result_records, score_events
from service.store.repository import Store
from tests.service.conftest import NO_MODEL_HINT, auth, k8s_event, make_client

WHEN = datetime(2026, 3, 9, 10, 30, tzinfo=UTC)


@pytest.fixture
def scoring_client(
    store: Store, settings: Settings, scoring_model: LoadedModel
) -> Iterator[TestClient]:
    with make_client(store, settings, scoring_model) as test_client:
        yield test_client


def test_scores_like_the_offline_scorer_and_stores_nothing(
    scoring_client: TestClient, store: Store, scoring_model: LoadedModel
) -> None:
    usual = k8s_event("usual", WHEN, user="user1@example.com", verb="list", namespace="team-1")
    odd = k8s_event(
        "odd",
        WHEN.replace(hour=3),
        user="intruder@example.com",
        verb="create",
        resource="clusterrolebindings",
        namespace=None,
        code=201,
    )
    response = scoring_client.post("/v1/score", json=[usual, odd], headers=auth(store, "analyst"))
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == {"name": "auditlens", "version": "7"}
    assert (body["scored"], body["rejected"]) == (2, 0)
    assert [(i["index"], i["status"], i["error"]) for i in body["items"]] == [
        (0, 200, None),
        (1, 200, None),
    ]
    returned = [event for item in body["items"] for event in item["events"]]
    # The same records `auditlens score` writes for these events (one code path).
    frame, _ = to_frame([row for e in (usual, odd) for row in normalize_document(e)])
    offline = result_records(scoring_model, score_events(scoring_model, frame, explain_all=True))
    assert returned == orjson.loads(orjson.dumps(offline))
    assert all(event["explanation"] for event in returned)  # every event explained
    assert store.count_anomalies() == 0


def test_the_envelope_form_and_per_item_errors(scoring_client: TestClient, store: Store) -> None:
    bad_time = k8s_event("late", WHEN)
    bad_time["requestReceivedTimestamp"] = bad_time["stageTimestamp"] = "yesterday"
    received = k8s_event("rr", WHEN)
    received["stage"] = "RequestReceived"
    events = [k8s_event("ok", WHEN), {"hello": "world"}, 42, bad_time, received, [2**70]]
    response = scoring_client.post(
        "/v1/score", json={"events": events}, headers=auth(store, "analyst")
    )
    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["status"] for i in items] == [200, 422, 422, 422, 200, 422]
    assert items[1]["error"] == {
        "reason": "unknown_shape",
        "detail": "no source adapter recognises an object with keys [hello]",
    }
    assert items[2]["error"] == {
        "reason": "not_an_object",
        "detail": "expected a JSON object or array, got int",
    }
    assert items[3]["error"] == {
        "reason": "bad_timestamp",
        "detail": "event 'late': unparseable time 'yesterday'",
    }
    assert items[4]["events"] == []  # a RequestReceived stage is not scored
    assert items[5]["error"] == {
        "reason": "not_json",
        "detail": "element cannot be kept as JSON: Integer exceeds 64-bit range",
    }
    assert response.json()["rejected"] == 4


def test_too_many_events_is_a_413(
    store: Store, settings: Settings, scoring_model: LoadedModel
) -> None:
    limited = settings.model_copy(update={"score_max_events": 2})
    with make_client(store, limited, scoring_model) as client:
        response = client.post(
            "/v1/score",
            json=[k8s_event(str(i), WHEN) for i in range(3)],
            headers=auth(store, "analyst"),
        )
    assert response.status_code == 413
    assert response.json() == {
        "detail": "3 events exceed the limit of 2 per request (AUDITLENS_SCORE_MAX_EVENTS)"
    }


def test_without_a_model_it_is_a_503_saying_why(client: TestClient, store: Store) -> None:
    response = client.post("/v1/score", json=[k8s_event("x", WHEN)], headers=auth(store, "analyst"))
    assert response.status_code == 503
    assert response.json() == {"detail": f"no model to score with: {NO_MODEL_HINT}"}


def test_a_body_that_is_neither_a_list_nor_an_envelope_is_a_422(
    scoring_client: TestClient, store: Store
) -> None:
    response = scoring_client.post("/v1/score", json={"event": {}}, headers=auth(store, "analyst"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


def test_readers_may_not_score(scoring_client: TestClient, store: Store) -> None:
    response = scoring_client.post("/v1/score", json=[], headers=auth(store, "reader"))
    assert response.status_code == 403
    assert response.json() == {"detail": "this action needs the analyst role; key has reader"}
