"""Typed field access for adapters: a wrong type is an :class:`AdapterError`, never a crash.

Raw events come from outside; every adapter reads them through these helpers so
that an ill-typed field is reported with its path instead of raising a
``TypeError`` deep inside the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from features.exceptions import AdapterError

Path = str | tuple[str, ...]


@lru_cache(maxsize=1024)
def _steps(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def field(doc: Mapping[str, Any], path: Path) -> Any:
    """Follow a dotted path (or a tuple of keys, for keys with dots); None when a step is missing.

    >>> field({"user": {"name": "alice"}}, "user.name")
    'alice'
    >>> field({"user": None}, "user.name") is None
    True
    >>> field({"annotations": {"authorization.k8s.io/decision": "allow"}},
    ...       ("annotations", "authorization.k8s.io/decision"))
    'allow'
    """
    current: Any = doc
    for part in _steps(path) if isinstance(path, str) else path:
        if type(current) is dict:  # the common case, ahead of the slower ABC check
            current = current.get(part)
            if current is None:
                return None
            continue
        if not isinstance(current, Mapping):
            if current is None:
                return None
            raise AdapterError(
                f"field {path!r}: expected an object at {part!r}", reason="bad_field"
            )
        current = current.get(part)
        if current is None:
            return None
    return current


def opt_str(doc: Mapping[str, Any], path: Path) -> str | None:
    """A text field that may be absent; numbers and booleans are accepted as text.

    >>> opt_str({"code": 403}, "code")
    '403'
    """
    value = field(doc, path)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value).lower() if isinstance(value, bool) else str(value)
    raise AdapterError(
        f"field {path!r}: expected text, got {type(value).__name__}", reason="bad_field"
    )


def req_str(doc: Mapping[str, Any], path: Path) -> str:
    """A text field the event cannot do without."""
    value = opt_str(doc, path)
    if value is None or value == "":
        raise AdapterError(f"required field {path!r} is missing", reason="missing_field")
    return value


def opt_int(doc: Mapping[str, Any], path: Path) -> int | None:
    """An integer field that may be absent.

    >>> opt_int({"responseStatus": {"code": 201}}, "responseStatus.code")
    201
    """
    value = field(doc, path)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise AdapterError(
            f"field {path!r}: expected an integer, got {type(value).__name__}", reason="bad_field"
        )
    return value


def opt_list(doc: Mapping[str, Any], path: Path) -> list[Any]:
    """A list field; absent means empty."""
    value = field(doc, path)
    if value is None:
        return []
    if not isinstance(value, list):
        raise AdapterError(
            f"field {path!r}: expected a list, got {type(value).__name__}", reason="bad_field"
        )
    return value
