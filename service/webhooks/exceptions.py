"""Errors raised by the webhooks package.

WebhookError
├── InvalidSecretError   a signing secret that is not ``whsec_<base64 of 24–64 bytes>``
└── UnsafeURLError       an endpoint URL the service refuses to call (``reason`` says why)
"""


class WebhookError(Exception):
    """Base of every error the webhooks package raises on purpose."""


class InvalidSecretError(WebhookError):
    """Raised for a malformed signing secret."""


class UnsafeURLError(WebhookError):
    """Raised for a URL that is not http(s) or kafka, has no host, or reaches a non-public address.

    ``reason`` is a stable snake_case label: ``unsupported_scheme``, ``no_host``,
    ``credentials_in_url``, ``unresolvable``, ``private_address`` or ``bad_topic``
    (a ``kafka://`` URL that does not name one valid topic).
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
