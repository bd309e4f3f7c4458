"""Chart geometry for the console's inline SVG: bars computed here, drawn by templates.

Charts are plain SVG in the page (no script, no chart library, nothing to
download), so they render offline and under a strict Content-Security-Policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CHART_WIDTH = 720
CHART_HEIGHT = 120


@dataclass(frozen=True)
class ShareBar:
    """One feature of an explanation: its share of the deviation, observed against typical."""

    feature: str
    value: Any
    typical: Any
    share: float
    width: float
    y: float


def explanation_bars(
    explanation: Sequence[Mapping[str, Any]], width: float = 360, row: float = 28
) -> list[ShareBar]:
    """Bars as long as each feature's share of the event's deviation (the largest first).

    >>> [round(b.width) for b in explanation_bars(
    ...     [{"feature": "a", "value": 9, "typical": 1, "contribution": 0.75},
    ...      {"feature": "b", "value": 1, "typical": 0, "contribution": 0.25}], width=100)]
    [75, 25]
    """
    bars = []
    for index, item in enumerate(explanation):
        share = min(max(float(item.get("contribution") or 0.0), 0.0), 1.0)
        bars.append(
            ShareBar(
                feature=str(item.get("feature", "")),
                value=item.get("value"),
                typical=item.get("typical"),
                share=share,
                width=max(share * width, 1.0),
                y=index * row,
            )
        )
    return bars


@dataclass(frozen=True)
class CountBar:
    x: float
    y: float
    width: float
    height: float
    count: int
    label: str
    marked: bool
    flagged: bool


def count_bars(
    counts: Sequence[int],
    labels: Sequence[str],
    marked: int | None,
    flagged: Sequence[bool] | None = None,
    width: float = CHART_WIDTH,
    height: float = CHART_HEIGHT,
) -> list[CountBar]:
    """A bar per bucket scaled to the largest count; ``marked`` is the event's bucket.

    >>> [b.height for b in count_bars([0, 5, 10], ["a", "b", "c"], marked=2, height=100)]
    [0.0, 50.0, 100.0]
    """
    peak = max(counts, default=0) or 1
    step = width / max(len(counts), 1)
    bars = []
    for index, count in enumerate(counts):
        bar_height = height * count / peak
        bars.append(
            CountBar(
                x=index * step,
                y=height - bar_height,
                width=max(step - 1, 1.0),
                height=bar_height,
                count=count,
                label=labels[index],
                marked=index == marked,
                flagged=bool(flagged[index]) if flagged is not None else False,
            )
        )
    return bars
