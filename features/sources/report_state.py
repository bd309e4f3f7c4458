"""Turn policy-report snapshots into events: only results that are new or changed.

Policy engines re-publish a whole report after every scan, so the same results
arrive again and again. The report adapter stays pure and yields every result;
:class:`ReportSnapshots` remembers, per report, a fingerprint of each result
(its outcome, severity and message) and lets a row through only when its key is
new or its fingerprint differs from the one last seen. Rows of any other source
pass through untouched.

Each call must see whole reports (all the rows one report document produced),
which is what normalizing a message or a file gives: results of a report that
are absent from the call are forgotten, so a result that disappears and later
comes back is an event again. (A report published with no results at all
yields no rows and so forgets nothing.)

Memory is bounded: past ``max_results`` remembered results, whole reports are
evicted, least recently seen first; an evicted report's results count as new
the next time it arrives. :meth:`ReportSnapshots.snapshot` and
:meth:`ReportSnapshots.restore` persist the state across restarts; the snapshot
is written to a temporary file and renamed over the old one, so a crash never
leaves a half-written file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from features.schema import NormalizedEvent
from features.sources.policyreport import report_result

FORMAT_VERSION = 1
DEFAULT_MAX_RESULTS = 1_000_000


def fingerprint(row: NormalizedEvent, result: Mapping[str, Any]) -> str:
    """What makes a result "changed": outcome, severity and message, hashed small.

    >>> row = {"outcome": "fail", "severity": "high"}
    >>> fingerprint(row, {"message": "a"}) == fingerprint(row, {"message": "a", "timestamp": 1})
    True
    >>> fingerprint(row, {"message": "a"}) == fingerprint(row, {"message": "b"})
    False
    """
    message = result.get("message")
    text = "\x1f".join(
        (row["outcome"] or "", row["severity"] or "", message if isinstance(message, str) else "")
    )
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class ReportSnapshots:
    """Per-report memory of result fingerprints, with LRU eviction of whole reports."""

    def __init__(self, max_results: int = DEFAULT_MAX_RESULTS) -> None:
        if max_results < 1:
            raise ValueError("max_results must be at least 1")
        self.max_results = max_results
        self._reports: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._size = 0

    def __len__(self) -> int:
        """How many results are remembered, over all reports."""
        return self._size

    def copy(self) -> ReportSnapshots:
        """An independent copy (each report's fingerprints are changed in place)."""
        twin = ReportSnapshots(self.max_results)
        twin._reports = OrderedDict((key, dict(known)) for key, known in self._reports.items())
        twin._size = self._size
        return twin

    @property
    def reports(self) -> int:
        """How many reports are remembered."""
        return len(self._reports)

    def new_or_changed(self, rows: Sequence[NormalizedEvent]) -> list[NormalizedEvent]:
        """The rows to score: report results that are new or changed, and every other row."""
        kept: list[NormalizedEvent] = []
        present: dict[str, set[str]] = {}
        for row in rows:
            parsed = report_result(row)
            if parsed is None:
                kept.append(row)
                continue
            key, result = parsed
            known = self._touch(key, present)
            present[key].add(row["event_id"])
            mark = fingerprint(row, result)
            previous = known.get(row["event_id"])
            if previous != mark:
                if previous is None:
                    self._size += 1
                known[row["event_id"]] = mark
                kept.append(row)
        for key, ids in present.items():
            remembered = self._reports[key]
            for stale in [event_id for event_id in remembered if event_id not in ids]:
                del remembered[stale]
                self._size -= 1
        self._evict()
        return kept

    def _touch(self, key: str, present: dict[str, set[str]]) -> dict[str, str]:
        known = self._reports.get(key)
        if known is None:
            known = self._reports[key] = {}
        if key not in present:
            present[key] = set()
            self._reports.move_to_end(key)
        return known

    def _evict(self) -> None:
        while self._size > self.max_results and len(self._reports) > 1:
            _, evicted = self._reports.popitem(last=False)
            self._size -= len(evicted)

    def to_bytes(self) -> bytes:
        """The state as one JSON document (what :meth:`snapshot` writes)."""
        return orjson.dumps({"version": FORMAT_VERSION, "reports": list(self._reports.items())})

    def snapshot(self, path: Path | str) -> None:
        """Write the state to ``path`` atomically (temporary file, fsync, rename)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        payload = self.to_bytes()
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def restore(self, path: Path | str) -> bool:
        """Load a state written by :meth:`snapshot`; False (state unchanged) if there is none.

        A file that is not such a snapshot raises ValueError and leaves the state as it was.
        """
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            return False
        self.load_bytes(data, str(path))
        return True

    def load_bytes(self, data: bytes, origin: str = "report snapshot") -> None:
        """Replace the state with one from :meth:`to_bytes`; ValueError (state unchanged) if
        ``data`` is not such a document. ``origin`` names it in the error."""
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"{origin}: not a report snapshot file: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("version") != FORMAT_VERSION:
            raise ValueError(f"{origin}: not a version {FORMAT_VERSION} report snapshot file")
        reports: OrderedDict[str, dict[str, str]] = OrderedDict()
        for entry in doc.get("reports") or []:
            if not (
                isinstance(entry, list)
                and len(entry) == 2
                and isinstance(entry[0], str)
                and isinstance(entry[1], dict)
                and all(isinstance(v, str) for v in entry[1].values())
            ):
                raise ValueError(f"{origin}: malformed entry in the report snapshot file")
            reports[entry[0]] = entry[1]
        self._reports = reports
        self._size = sum(len(known) for known in reports.values())
        self._evict()
