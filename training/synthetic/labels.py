"""Labels: the event ids of labelled lines, as the project's adapters will name them.

Where the id contract fixes the id (``auditID``, ``eventID``, ``decision_id``, a
PolicyReport result's composite id) the writer already knows it. Where the
adapter defines it (Gatekeeper and Falco: a hash of the line), the labelled
lines are normalised by the project's own code, exactly as
:func:`features.files.read_events` reads the file; if that source has no
adapter registered yet, its lines cannot be named and are counted as
unlabelled instead (their scenario is still labelled through its other sources).
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from features import sources
from features.decode import decode, normalize_document
from features.exceptions import FeatureError
from training.synthetic.batch import Batch

log = logging.getLogger(__name__)


@dataclass
class Labels:
    """``(event_id, label)`` rows in time order, and how many lines could not be named."""

    rows: list[tuple[str, str]] = field(default_factory=list)
    unlabelled: dict[str, int] = field(default_factory=dict)

    def write(self, path: Path) -> None:
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["event_id", "scenario"])
            writer.writerows(self.rows)


def adapter_ids(source: str, lines: Sequence[bytes]) -> list[tuple[str, ...]] | None:
    """Each line's event ids under the registered adapter of ``source``; None without one."""
    if source not in sources.BY_SOURCE:
        return None
    out: list[tuple[str, ...]] = []
    for line in lines:
        try:
            rows = normalize_document(decode(line), None, source)
        except FeatureError as exc:  # a generator bug: say which line, keep going
            log.warning("labelled %s line not readable by its adapter: %s", source, exc)
            rows = []
        out.append(tuple(row["event_id"] for row in rows))
    return out


def collect(batches: Sequence[Batch]) -> Labels:
    """Labels of every labelled batch, ordered by event time, each id once."""
    timed: list[tuple[int, int, str, str]] = []
    labels = Labels()
    for batch in batches:
        if batch.label is None:
            continue
        ids = batch.ids if batch.ids is not None else adapter_ids(batch.source, batch.lines)
        if ids is None:
            labels.unlabelled[batch.source] = labels.unlabelled.get(batch.source, 0) + len(batch)
            continue
        for t, line_ids in zip(batch.times.tolist(), ids, strict=True):
            timed.extend((t, len(timed), event_id, batch.label) for event_id in line_ids)
    seen: set[str] = set()
    for _, _, event_id, label in sorted(timed):
        if event_id not in seen:
            seen.add(event_id)
            labels.rows.append((event_id, label))
    for source, count in sorted(labels.unlabelled.items()):
        log.warning(
            "%d labelled %s lines have no adapter to name their events; left out of the labels",
            count,
            source,
        )
    return labels
