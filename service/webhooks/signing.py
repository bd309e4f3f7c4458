"""Standard Webhooks 1.0 signatures.

The signed content is ``"{webhook-id}.{webhook-timestamp}.{body}"``, the key is
the base64-decoded part of the secret after ``whsec_``, and the header carries
``v1,<base64 HMAC-SHA256>`` (several space-separated signatures are allowed, so
a receiver can accept old and new secrets during a rotation).

The published test vector of the specification:

>>> secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
>>> sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping

from service.webhooks.exceptions import InvalidSecretError

PREFIX = "whsec_"
MIN_KEY_BYTES, MAX_KEY_BYTES = 24, 64


def generate_secret() -> str:
    """A new ``whsec_`` secret holding 24 random bytes (the size Standard Webhooks suggests)."""
    return PREFIX + base64.b64encode(secrets.token_bytes(MIN_KEY_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a secret; InvalidSecretError explains a malformed one.

    >>> len(secret_key(generate_secret()))
    24
    >>> secret_key("hunter2")
    Traceback (most recent call last):
    ...
    service.webhooks.exceptions.InvalidSecretError: a signing secret starts with whsec_
    """
    if not secret.startswith(PREFIX):
        raise InvalidSecretError(f"a signing secret starts with {PREFIX}")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecretError(f"the part after {PREFIX} must be standard base64") from exc
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise InvalidSecretError(
            f"the secret must hold {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes, not {len(key)}"
        )
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one delivery."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: int,
    tolerance_s: int = 300,
) -> bool:
    """What a receiver does: a fresh timestamp and one matching ``v1`` signature.

    >>> s = generate_secret()
    >>> h = signature_headers(s, "msg_1", 1700000000, b"{}")
    >>> verify(s, h, b"{}", now=1700000010), verify(s, h, b"{ }", now=1700000010)
    (True, False)
    >>> verify(s, h, b"{}", now=1700000000 + 3600)
    False
    """
    try:
        message_id = headers["webhook-id"]
        timestamp = int(headers["webhook-timestamp"])
        presented = headers["webhook-signature"].split()
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = sign(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in presented)
