"""Read raw events from files: the training and backfill path into the same adapters.

Accepted: ``.jsonl`` / ``.jsonl.gz`` (one event or document per line), ``.json`` /
``.json.gz`` (one document: an event, an array, ``{"Records": [...]}``, an
``EventList``), ``.yaml`` / ``.yml`` (Kubernetes objects as ``kubectl get -o
yaml`` writes them, several documents allowed). A folder means every such file
in it, in name order.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from features.decode import decode, normalize_document
from features.exceptions import DecodeError, FeatureError
from features.schema import NormalizedEvent
from features.sources.report_state import ReportSnapshots

SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".yaml", ".yml")


@dataclass
class ReadResult:
    """Normalized rows plus every input that could not be read, with where and why."""

    events: list[NormalizedEvent] = field(default_factory=list)
    errors: list[tuple[str, FeatureError]] = field(default_factory=list)


def expand_paths(paths: Iterable[Path | str]) -> list[Path]:
    """Files named directly, plus every supported file inside named folders."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))
            )
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return found


def _open_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(_open_bytes(path).splitlines(), start=1):
        if line.strip():
            yield number, line


def iter_documents(paths: Iterable[Path | str]) -> Iterator[tuple[str, Any]]:
    """``(where, document)`` for every document in ``paths``; an unreadable one is
    yielded as its :class:`FeatureError` instead, so callers decide what to do."""
    for path in expand_paths(paths):
        name = path.name
        if name.endswith((".jsonl", ".jsonl.gz")):
            for number, line in _lines(path):
                try:
                    yield f"{path}:{number}", decode(line)
                except FeatureError as exc:
                    yield f"{path}:{number}", exc
        elif name.endswith((".yaml", ".yml")):
            try:
                documents = [d for d in yaml.safe_load_all(_open_bytes(path)) if d is not None]
            except yaml.YAMLError as exc:
                yield str(path), DecodeError(f"not YAML: {exc}", reason="not_yaml")
                continue
            for position, doc in enumerate(documents):
                yield f"{path}#{position}", doc
        else:
            data = _open_bytes(path)
            try:
                yield str(path), decode(data, max_bytes=1 << 40)
            except DecodeError as exc:
                if exc.reason != "not_json" or len(data.strip().splitlines()) < 2:
                    yield str(path), exc
                    continue
                # JSON Lines saved under a .json name (as many shippers do).
                for number, line in _lines(path):
                    try:
                        yield f"{path}:{number}", decode(line)
                    except FeatureError as line_exc:
                        yield f"{path}:{number}", line_exc
            except FeatureError as exc:
                yield str(path), exc


def read_events(
    paths: Iterable[Path | str],
    source: str | None = None,
    reports: ReportSnapshots | None = None,
) -> ReadResult:
    """Normalize every event in ``paths``; bad inputs are collected, never fatal.

    With ``reports``, a policy report that repeats an earlier snapshot only
    contributes its new or changed results (as in the stream).
    """
    result = ReadResult()
    for where, doc in iter_documents(paths):
        if isinstance(doc, FeatureError):
            result.errors.append((where, doc))
            continue
        try:
            rows = normalize_document(doc, None, source)
        except FeatureError as exc:
            result.errors.append((where, exc))
            continue
        result.events.extend(reports.new_or_changed(rows) if reports is not None else rows)
    return result
