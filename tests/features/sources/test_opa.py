from __future__ import annotations

from typing import Any

import orjson
import pytest

from features.decode import normalize_message
from features.exceptions import AdapterError
from features.schema import to_frame
from features.sources import detect, opa
from tests.features.sources.samples import opa_decision


def test_maps_an_admission_decision() -> None:
    [row] = opa.normalize(opa_decision(), "RAW")
    assert row["event_id"] == "4ca636c1-55e4-417a-b1d8-4aceb67960d1"
    assert row["actor"] == "alice@example.com"
    assert row["actor_type"] == "user"
    assert row["action"] == "CREATE"
    assert row["resource"] == "Pod"
    assert row["object"] == "nginx"
    assert row["namespace"] == "prod"
    assert row["policy"] == "kubernetes/admission/deny"
    assert row["outcome"] == "deny"  # a non-empty deny set
    assert row["raw"] == "RAW"


def test_nanosecond_timestamp_parses() -> None:
    frame, rejected = to_frame(opa.normalize(opa_decision()))
    assert rejected == []
    assert frame["event_time"][0].microsecond == 123456


def test_service_account_is_classified_like_kubernetes_audit() -> None:
    decision = opa_decision()
    decision["input"]["request"]["userInfo"]["username"] = "system:serviceaccount:ci:deployer"
    [row] = opa.normalize(decision)
    assert row["actor_type"] == "service_account"


def test_console_form_uses_time() -> None:
    decision = opa_decision()
    decision.pop("timestamp")
    decision.update(
        {
            "level": "info",
            "msg": "Decision Log",
            "time": "2024-05-01T10:00:01Z",
            "type": "openpolicyagent.org/decision_logs",
        }
    )
    assert detect(decision).source == "opa"
    [row] = opa.normalize(decision)
    assert row["event_time"] == "2024-05-01T10:00:01Z"


def test_an_array_of_decisions_gives_one_row_each() -> None:
    decisions = [opa_decision(), {**opa_decision(), "decision_id": "second"}]
    rows = normalize_message(orjson.dumps(decisions))
    assert [row["event_id"] for row in rows] == [decisions[0]["decision_id"], "second"]
    assert {row["source"] for row in rows} == {"opa"}


def test_erased_input_and_result_still_give_a_row() -> None:
    decision = opa_decision()
    del decision["input"], decision["result"]
    decision["erased"] = ["/input", "/result"]
    [row] = opa.normalize(decision)
    assert (row["actor"], row["action"], row["outcome"]) == (None, None, None)
    assert row["event_id"] == decision["decision_id"]


def test_masked_fields_of_an_unexpected_type_are_skipped() -> None:
    decision = opa_decision()
    decision["input"]["request"]["userInfo"] = "**REDACTED**"
    decision["masked"] = ["/input/request/userInfo"]
    [row] = opa.normalize(decision)
    assert row["actor"] is None
    assert row["action"] == "CREATE"


def test_envoy_authorization_input() -> None:
    decision = {
        "decision_id": "d-envoy",
        "path": "envoy/authz/allow",
        "timestamp": "2024-05-01T10:00:00Z",
        "input": {
            "attributes": {
                "source": {"address": {"socketAddress": {"address": "10.1.2.3", "portValue": 4}}},
                "request": {
                    "http": {
                        "method": "DELETE",
                        "path": "/api/v1/orders/42",
                        "headers": {"user-agent": "curl/8.5", "x-forwarded-user": "erin"},
                    }
                },
            }
        },
        "result": False,
    }
    [row] = opa.normalize(decision)
    assert (row["actor"], row["action"], row["resource"]) == ("erin", "DELETE", "/api/v1/orders/42")
    assert (row["source_ip"], row["user_agent"], row["outcome"]) == ("10.1.2.3", "curl/8.5", "deny")


def test_plain_api_input_with_a_subject_object() -> None:
    decision = {
        "decision_id": "d-api",
        "path": "httpapi/authz",
        "timestamp": "2024-05-01T10:00:00Z",
        "input": {"subject": {"id": "svc-billing"}, "action": "read", "resource": "invoices"},
        "result": {"allow": True},
    }
    [row] = opa.normalize(decision)
    assert (row["actor"], row["action"], row["resource"], row["outcome"]) == (
        "svc-billing",
        "read",
        "invoices",
        "allow",
    )


def test_evaluation_error_is_an_error_outcome() -> None:
    decision = {**opa_decision(), "error": {"code": "eval_conflict_error", "message": "x"}}
    [row] = opa.normalize(decision)
    assert row["outcome"] == "error"


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (True, "allow"),
        (False, "deny"),
        ([], "allow"),
        (["denied"], "deny"),
        ({"allowed": True}, "allow"),
        ({"allow": False, "reason": "x"}, "deny"),
        ({"response": {"allowed": False, "status": {"message": "no"}}}, "deny"),
        ({"deny": [], "warn": ["x"]}, "allow"),
        ({"violations": [{"msg": "x"}]}, "deny"),
        ("allow", "allow"),
        (42, None),
        ({"unrelated": 1}, None),
    ],
)
def test_outcome_from_result_shapes(result: Any, expected: str | None) -> None:
    assert opa.outcome(result) == expected


def test_missing_decision_id_is_a_missing_field() -> None:
    decision = opa_decision()
    del decision["decision_id"]
    with pytest.raises(AdapterError) as info:
        opa.normalize(decision)
    assert info.value.reason == "missing_field"


def test_missing_time_is_a_missing_field() -> None:
    decision = opa_decision()
    del decision["timestamp"]
    with pytest.raises(AdapterError) as info:
        opa.normalize(decision)
    assert info.value.reason == "missing_field"
