from __future__ import annotations

from typing import Any

import orjson
import pytest

from features.decode import normalize_message
from features.exceptions import AdapterError
from features.schema import to_frame
from features.sources import cloudtrail, detect
from tests.features.sources.samples import STRATUS, otrf_records, stratus_records


def all_stratus_records() -> list[dict[str, Any]]:
    return [r for path in sorted(STRATUS.glob("*.json")) for r in orjson.loads(path.read_bytes())]


def test_every_stratus_record_is_one_row_keyed_by_its_event_id() -> None:
    records = all_stratus_records()
    rows = [row for record in records for row in cloudtrail.normalize(record)]
    assert [row["event_id"] for row in rows] == [record["eventID"] for record in records]
    frame, rejected = to_frame(rows)
    assert rejected == []
    assert (frame["event_time"].dt.year() >= 2024).all()


def test_records_container_is_unwrapped() -> None:
    records = stratus_records("aws.defense-evasion.cloudtrail-event-selectors")
    rows = normalize_message(orjson.dumps({"Records": records}))
    assert [row["source"] for row in rows] == ["cloudtrail"] * len(records)
    assert [row["event_id"] for row in rows] == [record["eventID"] for record in records]


def test_maps_an_iam_call() -> None:
    record = next(
        r
        for r in stratus_records("aws.persistence.iam-create-admin-user")
        if r["eventName"] == "CreateUser"
    )
    [row] = cloudtrail.normalize(record, "RAW")
    assert row["action"] == "iam:CreateUser"
    assert row["actor"] == record["userIdentity"]["userName"]
    assert row["actor_type"] == "user"
    assert row["namespace"] == f"{record['recipientAccountId']}/{record['awsRegion']}"
    assert row["object"] == record["requestParameters"]["userName"]
    assert row["outcome"] == "allow"
    assert row["source_ip"] == record["sourceIPAddress"]
    assert row["user_agent"] == record["userAgent"]
    assert row["raw"] == "RAW"


def test_error_codes_map_to_deny_or_error() -> None:
    rows = {
        record["errorCode"]: cloudtrail.normalize(record)[0]["outcome"]
        for record in all_stratus_records()
        if record.get("errorCode")
    }
    assert rows["AccessDenied"] == "deny"
    assert rows["Client.UnauthorizedOperation"] == "deny"
    assert rows["EntityTemporarilyUnmodifiableException"] == "error"


def test_assumed_role_actor_is_role_and_session() -> None:
    record = next(
        r
        for r in all_stratus_records()
        if r["userIdentity"]["type"] == "AssumedRole" and r.get("errorCode")
    )
    [row] = cloudtrail.normalize(record)
    role_and_session = record["userIdentity"]["arn"].split(":assumed-role/")[1]
    assert row["actor"] == role_and_session
    assert row["actor_type"] == "role"
    assert row["outcome"] == "deny"


def test_resources_give_the_resource_type_and_arn() -> None:
    record = next(
        r for r in all_stratus_records() if r.get("resources") and r["eventName"] == "AssumeRole"
    )
    [row] = cloudtrail.normalize(record)
    assert row["resource"] == "AWS::IAM::Role"
    assert row["object"] == record["resources"][0]["ARN"]


def test_console_login_without_mfa() -> None:
    [record] = stratus_records("aws.initial-access.console-login-without-mfa")
    [row] = cloudtrail.normalize(record)
    assert row["action"] == "signin:ConsoleLogin"
    assert row["policy"] == "mfa:no"
    assert row["outcome"] == "allow"


def test_failed_console_login_is_denied() -> None:
    [record] = stratus_records("aws.initial-access.console-login-without-mfa")
    record["responseElements"] = {"ConsoleLogin": "Failure"}
    record["errorMessage"] = "Failed authentication"
    [row] = cloudtrail.normalize(record)
    assert row["outcome"] == "deny"


def test_logstash_shipped_records_fall_back_to_at_timestamp() -> None:
    records = otrf_records()
    assert all("eventTime" not in record for record in records)
    rows = [row for record in records for row in cloudtrail.normalize(record)]
    assert len(rows) == len(records) == 103
    assert [row["event_time"] for row in rows] == [record["@timestamp"] for record in records]
    assert all(detect(record).source == "cloudtrail" for record in records)


def test_stolen_ec2_role_calls_are_attributed_to_the_instance_session() -> None:
    rows = [cloudtrail.normalize(record)[0] for record in otrf_records()]
    s3_by_role = [
        r for r in rows if r["actor_type"] == "role" and (r["action"] or "").startswith("s3:")
    ]
    assert {r["action"] for r in s3_by_role} == {"s3:ListBuckets", "s3:ListObjects", "s3:GetObject"}
    assert {r["actor"] for r in s3_by_role} == {
        "MordorNginxStack-BankingWAFRole-9S3E0UAE1MM0/i-0317f6c6b66ae9c40"
    }
    services = {r["actor"] for r in rows if r["actor_type"] == "service"}
    assert services == {"ec2.amazonaws.com"}


@pytest.mark.parametrize(
    ("identity", "actor", "actor_type"),
    [
        (
            {"type": "IAMUser", "userName": "alice", "arn": "arn:aws:iam::1:user/alice"},
            "alice",
            "user",
        ),
        (
            {
                "type": "AssumedRole",
                "arn": "arn:aws:sts::1:assumed-role/Admin/alice@example.com",
                "sessionContext": {"sessionIssuer": {"userName": "Admin"}},
            },
            "Admin/alice@example.com",
            "role",
        ),
        ({"type": "Root", "arn": "arn:aws:iam::1:root", "accountId": "1"}, "root", "root"),
        (
            {"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"},
            "cloudtrail.amazonaws.com",
            "service",
        ),
        (
            {"type": "FederatedUser", "arn": "arn:aws:sts::1:federated-user/bob"},
            "federated-user/bob",
            "federated",
        ),
        (
            {"type": "AWSAccount", "accountId": "999", "principalId": "AIDA1"},
            "account/999",
            "account",
        ),
        (
            {"type": "IdentityCenterUser", "onBehalfOf": {"userId": "u-123"}, "accountId": "1"},
            "u-123",
            "user",
        ),
        ({"type": "Unknown", "userName": "carol"}, "carol", "unknown"),
        ({"type": "SAMLUser", "userName": "dave@example.com"}, "dave@example.com", "federated"),
        (
            {"type": "WebIdentityUser", "principalId": "accounts.google.com:42", "userName": "42"},
            "42",
            "federated",
        ),
    ],
)
def test_every_identity_type_has_a_readable_actor(
    identity: dict[str, Any], actor: str, actor_type: str
) -> None:
    record = stratus_records("aws.persistence.iam-create-admin-user")[0]
    record["userIdentity"] = identity
    [row] = cloudtrail.normalize(record)
    assert row["actor"] == actor
    assert row["actor_type"] == actor_type


def test_account_comes_from_the_identity_when_the_recipient_is_missing() -> None:
    record = stratus_records("aws.persistence.iam-create-admin-user")[0]
    del record["recipientAccountId"]
    [row] = cloudtrail.normalize(record)
    assert row["namespace"] == f"{record['userIdentity']['accountId']}/{record['awsRegion']}"


def test_record_without_any_time_is_rejected() -> None:
    record = stratus_records("aws.persistence.iam-create-admin-user")[0]
    del record["eventTime"]
    with pytest.raises(AdapterError) as info:
        cloudtrail.normalize(record)
    assert info.value.reason == "missing_field"


def test_ill_typed_identity_is_a_bad_field() -> None:
    record = stratus_records("aws.persistence.iam-create-admin-user")[0]
    record["userIdentity"] = "alice"
    with pytest.raises(AdapterError) as info:
        cloudtrail.normalize(record)
    assert info.value.reason == "bad_field"
