"""When to try a failed delivery again.

Exponential backoff with "equal jitter": attempt ``n`` waits between half and all
of ``min(cap, base · 2^(n−1))``, so receivers recovering from an outage are not
hit by every sender at the same instant, yet a retry never comes sooner than half
the nominal delay. A receiver's ``Retry-After`` (seconds or an HTTP date) is a
floor, honoured up to a day.
"""

from __future__ import annotations

import random
from datetime import datetime
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER_S = 86_400.0


def backoff_delay(attempt: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 = the first).

    >>> rng = random.Random(0)
    >>> delays = [backoff_delay(n, 5.0, 60.0, rng) for n in (1, 2, 3, 4, 5, 6)]
    >>> [round(d, 1) for d in delays]
    [4.6, 8.8, 14.2, 25.2, 45.3, 42.1]
    >>> all(2.5 <= d <= 60 for d in delays)
    True
    """
    nominal = min(cap_s, base_s * 2.0 ** max(0, attempt - 1))
    return nominal / 2 + rng.uniform(0, nominal / 2)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from ``now`` that a ``Retry-After`` header asks for; None if absent or invalid.

    >>> from datetime import UTC
    >>> now = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)
    >>> parse_retry_after("3", now), parse_retry_after("Mon, 02 Mar 2026 10:00:30 GMT", now)
    (3.0, 30.0)
    >>> parse_retry_after("soon", now) is None, parse_retry_after("-5", now)
    (True, 0.0)
    """
    if value is None:
        return None
    value = value.strip()
    if value.lstrip("-").isdigit():
        return max(0.0, float(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def retry_delay(
    attempt: int,
    retry_after_s: float | None,
    base_s: float,
    cap_s: float,
    rng: random.Random,
) -> float:
    """The wait before the next attempt: the backoff, or longer if the receiver asked.

    >>> retry_delay(1, 30.0, 1.0, 60.0, random.Random(0)) == 30.0
    True
    """
    delay = backoff_delay(attempt, base_s, cap_s, rng)
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, MAX_RETRY_AFTER_S))
    return delay
