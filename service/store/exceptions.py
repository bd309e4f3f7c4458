"""Errors raised by the store.

StoreError
└── InvalidCursorError   a pagination cursor this store did not issue
"""


class StoreError(Exception):
    """Base of every error the store raises on purpose."""


class InvalidCursorError(StoreError):
    """Raised when a client presents a cursor that cannot be decoded."""
