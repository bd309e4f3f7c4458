"""Time in the generator: integer microseconds since the Unix epoch, formatted in bulk.

Event times are ``int64`` microseconds throughout, so sampling, shifting and
sorting are plain numpy arithmetic; they become the text each source writes
(RFC 3339 with micro- or nanoseconds, whole seconds for CloudTrail, float
seconds for Gatekeeper) only when a batch is serialised, one numpy call per
batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import numpy as np
import numpy.typing as npt

from training.synthetic.randomness import FloatArray, IntArray

US = 1_000_000
MINUTE = 60 * US
HOUR = 3600 * US
DAY = 86_400 * US
TEST_START = datetime(2026, 3, 16, tzinfo=UTC)  # a Monday: the test period starts a week
_TEST_START_US = int(TEST_START.timestamp()) * US


@dataclass(frozen=True)
class Period:
    """The generated time span: ``[start, end)`` split at ``test_start``."""

    start: int
    test_start: int
    end: int

    @classmethod
    def of(cls, days: int) -> Period:
        """The last quarter of the days (at least one) is the test period, which
        always starts on a Monday, so it holds working days whatever ``days`` is.

        >>> p = Period.of(14)
        >>> (p.test_start - p.start) // DAY, (p.end - p.test_start) // DAY
        (11, 3)
        """
        test_days = max(1, days // 4)
        train_days = max(1, days - test_days)
        return cls(
            start=_TEST_START_US - train_days * DAY,
            test_start=_TEST_START_US,
            end=_TEST_START_US + test_days * DAY,
        )

    @property
    def days(self) -> int:
        return (self.end - self.start) // DAY

    @property
    def test_days(self) -> int:
        return (self.end - self.test_start) // DAY


def weekday(times: IntArray) -> IntArray:
    """Day of the week, Monday = 0 (1970-01-01 was a Thursday).

    >>> weekday(np.array([_TEST_START_US, _TEST_START_US + 5 * DAY])).tolist()
    [0, 5]
    """
    return ((times // DAY) + 3) % 7


def _iso(times: IntArray, unit: Literal["s", "us"]) -> npt.NDArray[np.str_]:
    stamps: npt.NDArray[np.datetime64] = times.astype("datetime64[us]")
    return np.datetime_as_string(stamps, unit=unit)


def rfc3339_micro(times: IntArray) -> list[str]:
    """Kubernetes audit timestamps.

    >>> rfc3339_micro(np.array([_TEST_START_US + 1]))
    ['2026-03-16T00:00:00.000001Z']
    """
    return np.strings.add(_iso(times, "us"), "Z").tolist()  # type: ignore[no-any-return]


def rfc3339_seconds(times: IntArray) -> list[str]:
    """CloudTrail ``eventTime``.

    >>> rfc3339_seconds(np.array([_TEST_START_US + 1_500_000]))
    ['2026-03-16T00:00:01Z']
    """
    return np.strings.add(_iso(times, "s"), "Z").tolist()  # type: ignore[no-any-return]


def rfc3339_nanos(times: IntArray, nanos: IntArray) -> list[str]:
    """Falco and OPA timestamps: microseconds plus three more digits.

    >>> rfc3339_nanos(np.array([_TEST_START_US]), np.array([42]))
    ['2026-03-16T00:00:00.000000042Z']
    """
    if len(times) == 0:
        return []
    digits = np.strings.zfill(nanos.astype(str), 3)
    return np.strings.add(np.strings.add(_iso(times, "us"), digits), "Z").tolist()  # type: ignore[no-any-return]


def epoch_seconds(times: IntArray) -> FloatArray:
    """Float seconds, as zap loggers (Gatekeeper) write ``ts``."""
    return times / US
