"""Falco alerts as its JSON output writes them (``json_output: true``).

``time`` is RFC 3339 with nanoseconds, ``output`` the rendered rule output
(prefixed with the time and priority, as Falco prints it) and
``output_fields`` the fields it was rendered from. The event id is defined by
the adapter (a hash of the line), so this writer returns no ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from training.synthetic.batch import Batch, dumps
from training.synthetic.clock import rfc3339_nanos
from training.synthetic.randomness import IntArray

SOURCE = "falco"


@dataclass(frozen=True)
class Alert:
    rule: str
    priority: str
    text: str  # the rule's output with fields rendered, without the time/priority prefix
    fields: dict[str, Any]
    tags: tuple[str, ...]
    hostname: str


def write(alerts: list[Alert], times: IntArray, rng: np.random.Generator) -> Batch:
    """Serialise alerts; ``times`` are µs, Falco's nanosecond digits are drawn."""
    nanos = rng.integers(0, 1000, len(alerts))
    stamps = rfc3339_nanos(times, nanos)
    evt_ns = (times * 1000 + nanos).tolist()
    lines = []
    for alert, stamp, ns in zip(alerts, stamps, evt_ns, strict=True):
        clock = stamp[11:29]
        fields = {**alert.fields, "evt.time": ns}
        lines.append(
            dumps(
                {
                    "hostname": alert.hostname,
                    "output": f"{clock}: {alert.priority} {alert.text}",
                    "output_fields": dict(sorted(fields.items())),
                    "priority": alert.priority,
                    "rule": alert.rule,
                    "source": "syscall",
                    "tags": list(alert.tags),
                    "time": stamp,
                }
            )
        )
    return Batch(SOURCE, times.copy(), lines, None)
