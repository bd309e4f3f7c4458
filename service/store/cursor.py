"""The feed cursor: a position in commit order that survives concurrent writers.

A cursor over ids alone is wrong on PostgreSQL: ids come from a sequence when a
row is inserted, but rows become visible when their transaction commits, so a
transaction holding id 10 can commit after one holding id 11. A reader that saw
11 and moved its cursor past it would never see 10.

The store therefore records the writing transaction's id on every row
(``xact_id``, from ``pg_current_xact_id()``) and the feed

* orders rows by ``(xact_id, id)``, and
* returns only rows whose ``xact_id`` is below the reader's snapshot horizon,
  ``pg_snapshot_xmin(pg_current_snapshot())``: every transaction older than the
  horizon has finished, and every transaction that is still running or starts
  later has an id at or above it.

So once the feed has returned a position ``(x, i)``, no row can later appear
before it, and following ``next_cursor`` yields every row exactly once. The price
is latency: a long-running write transaction anywhere in the cluster holds the
horizon back, delaying (never losing) newer rows. SQLite has one writer at a
time, so ids already follow commit order there and ``xact_id`` is always 0.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from service.store.exceptions import InvalidCursorError

_PREFIX = "v2"
_MAX = 2**63 - 1  # both numbers are BIGINT in the store


@dataclass(frozen=True, order=True)
class Position:
    """The last row a page returned: its writing transaction and its id."""

    xact_id: int
    id: int


def encode_cursor(position: Position) -> str:
    """An opaque, URL-safe token.

    >>> encode_cursor(Position(0, 42))
    'djI6MDo0Mg'
    """
    text = f"{_PREFIX}:{position.xact_id}:{position.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor names; InvalidCursorError for anything this store did not issue.

    A ``v1`` cursor (an id alone, issued before transaction ids were recorded)
    still resumes correctly: every row stored before then has ``xact_id`` 0.

    >>> decode_cursor(encode_cursor(Position(7, 42)))
    Position(xact_id=7, id=42)
    >>> decode_cursor("djE6NDI")
    Position(xact_id=0, id=42)
    >>> decode_cursor("garbage")
    Traceback (most recent call last):
    ...
    service.store.exceptions.InvalidCursorError: cursor is not one this API issued
    """
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, *numbers = text.split(":")
        if prefix == _PREFIX and len(numbers) == 2:
            position = Position(int(numbers[0]), int(numbers[1]))
        elif prefix == "v1" and len(numbers) == 1:
            position = Position(0, int(numbers[0]))
        else:
            raise ValueError(text)
        if not (0 <= position.xact_id <= _MAX and 0 <= position.id <= _MAX):
            raise ValueError(text)
        return position
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursorError("cursor is not one this API issued") from exc
