"""A batch of serialised raw events: the unit every generator produces and the writer merges.

Generators return :class:`Batch` objects; the final files are made by
concatenating batches and sorting once by time (:func:`merge`), which keeps each
generator free to produce its events in any order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import orjson

from training.synthetic.randomness import IntArray


def concat_columns(parts: Sequence[Any], int_fields: tuple[str, ...]) -> dict[str, Any]:
    """Field values of several column-oriented dataclass batches, concatenated.

    ``int_fields`` are numpy int64 arrays; every other field is a Python list.
    """
    if not parts:
        raise ValueError("nothing to concatenate")
    values: dict[str, Any] = {}
    for f in fields(parts[0]):
        columns = [getattr(p, f.name) for p in parts]
        if f.name in int_fields:
            values[f.name] = np.concatenate(columns).astype(np.int64)
        else:
            values[f.name] = [v for column in columns for v in column]
    return values


def dumps(obj: object) -> bytes:
    """One JSON line, as compact bytes.

    ``orjson.dumps`` returns bytes that keep the spare capacity of its output
    buffer; holding a million of them costs several times the data's size in
    heap fragmentation. Copying each into an exact-size object keeps memory at
    the size of the output.

    >>> dumps({"a": [1, "x"]})
    b'{"a":[1,"x"]}'
    """
    return bytes(memoryview(orjson.dumps(obj)))


@dataclass(frozen=True)
class Batch:
    """Raw lines of one source with their event times (µs since the Unix epoch).

    ``ids`` are the event ids each line yields under the project's id contract
    (one tuple per line: a PolicyReport line yields one per *flagged* result);
    ``None`` where the id is defined by the adapter itself (a hash of the line),
    in which case labels are derived by normalising the lines. ``label`` marks
    an attack scenario or a benign rare episode.
    """

    source: str
    times: IntArray
    lines: list[bytes]
    ids: list[tuple[str, ...]] | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        if len(self.times) != len(self.lines):
            raise ValueError(f"{len(self.times)} times for {len(self.lines)} lines")
        if self.ids is not None and len(self.ids) != len(self.lines):
            raise ValueError(f"{len(self.ids)} id tuples for {len(self.lines)} lines")

    def __len__(self) -> int:
        return len(self.lines)

    def labelled(self, label: str) -> Batch:
        return replace(self, label=label)

    def select(self, keep: np.ndarray) -> Batch:
        """The lines where the boolean mask ``keep`` is true."""
        where = np.flatnonzero(keep)
        return replace(
            self,
            times=self.times[where],
            lines=[self.lines[i] for i in where],
            ids=None if self.ids is None else [self.ids[i] for i in where],
        )


def split(batch: Batch, at: int) -> tuple[Batch, Batch]:
    """The lines before ``at`` and the lines from ``at`` on."""
    before = batch.times < at
    return batch.select(before), batch.select(~before)


def merge(batches: Sequence[Batch]) -> list[bytes]:
    """All lines in time order; ties keep the order of ``batches`` and of lines within them.

    >>> a = Batch("x", np.array([3, 1]), [b"a3", b"a1"])
    >>> b = Batch("y", np.array([1, 2]), [b"b1", b"b2"])
    >>> merge([a, b])
    [b'a1', b'b1', b'b2', b'a3']
    """
    if not batches:
        return []
    times = np.concatenate([b.times for b in batches])
    lines = [line for b in batches for line in b.lines]
    order = np.argsort(times, kind="stable")
    return [lines[i] for i in order]
