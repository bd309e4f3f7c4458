"""Errors raised by the store.

StoreError
├── InvalidCursorError    a pagination cursor this store did not issue
├── NotFoundError         the addressed row does not exist (``kind`` and ``key`` say which)
└── InvalidChangeError    a change the data does not allow (e.g. suppressing on a field
                          the anomaly has no value for)
"""


class StoreError(Exception):
    """Base of every error the store raises on purpose."""


class InvalidCursorError(StoreError):
    """Raised when a client presents a cursor that cannot be decoded."""


class NotFoundError(StoreError):
    """Raised when an anomaly, suppression, webhook or key does not exist."""

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"no {kind} with id {key}")
        self.kind = kind
        self.key = key


class InvalidChangeError(StoreError):
    """Raised when a requested change contradicts the stored data."""
