from __future__ import annotations

import base64

import pytest

from service.webhooks.exceptions import InvalidSecretError
from service.webhooks.signing import generate_secret, secret_key, sign, signature_headers, verify


def test_generated_secrets_are_distinct_and_well_formed() -> None:
    secrets = {generate_secret() for _ in range(20)}
    assert len(secrets) == 20
    assert all(s.startswith("whsec_") and len(secret_key(s)) == 24 for s in secrets)


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "a signing secret starts with whsec_"),
        ("whsec_not base64!", "the part after whsec_ must be standard base64"),
        (
            "whsec_" + base64.b64encode(b"x" * 65).decode(),
            "the secret must hold 24 to 64 bytes, not 65",
        ),
    ],
)
def test_malformed_secrets_are_explained(secret: str, message: str) -> None:
    with pytest.raises(InvalidSecretError, match=message):
        secret_key(secret)


def test_signature_covers_id_timestamp_and_body() -> None:
    secret = generate_secret()
    base = sign(secret, "msg_1", 1700000000, b'{"a":1}')
    assert base.startswith("v1,")
    assert sign(secret, "msg_2", 1700000000, b'{"a":1}') != base
    assert sign(secret, "msg_1", 1700000001, b'{"a":1}') != base
    assert sign(secret, "msg_1", 1700000000, b'{"a":2}') != base
    assert sign(generate_secret(), "msg_1", 1700000000, b'{"a":1}') != base


def test_verify_accepts_any_listed_signature_and_rejects_garbage() -> None:
    old, new = generate_secret(), generate_secret()
    headers = signature_headers(new, "msg_1", 1700000000, b"{}")
    old_signature = sign(old, "msg_1", 1700000000, b"{}")
    rotated = {**headers, "webhook-signature": f"{old_signature} {headers['webhook-signature']}"}
    assert verify(new, rotated, b"{}", now=1700000000)
    assert not verify(new, {**headers, "webhook-timestamp": "soon"}, b"{}", now=1700000000)
    assert not verify(new, {"webhook-id": "msg_1"}, b"{}", now=1700000000)
