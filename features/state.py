"""Entity state: what the feature pipeline remembers about actors and namespaces.

Two kinds of memory, both polars frames:

* **pair counts** — for each history key (e.g. ``(entity, action, resource)``) how
  often it was seen, and when first and last; these answer "first time?" and
  "how rare for this entity?". Keys are 64-bit hashes, kept sorted per table
  (:mod:`features.history`); ``key_scheme`` records how they were computed;
* **tails** — the most recent rows per window group (actor, namespace), as long
  as the longest sliding window, so windows can span micro-batch boundaries;
* **reports** — the last snapshot of every policy report
  (:class:`~features.sources.report_state.ReportSnapshots`), so a re-sent report
  only yields the results that are new or changed.

State is bounded: each history keeps at most ``max_entries`` keys, evicting
the least recently seen (and tails only hold the last window). It is
snapshotted with :meth:`EntityState.entries` (one parquet file per table), to a
directory (written aside then renamed, so a crash never leaves a half-written
snapshot) or as one archive (:meth:`EntityState.to_bytes`) for a store to keep.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from features.sources.report_state import ReportSnapshots

SNAPSHOT_VERSION = "3"


def _key_scheme() -> str:
    """What the keys are computed with; keys of another scheme match nothing.

    polars does not promise the same hash across its versions, so a state records
    the hash of a fixed probe (with the seed the history keys use).
    """
    probe = pl.Series(["auditlens"]).hash(seed=KEY_SEED).item()
    return f"polars-hash-{probe:016x}"


KEY_SEED = 0x61756469746C656E  # "auditlen": the seed of polars' hash for key columns
KEY_SCHEME = _key_scheme()


@dataclass
class EntityState:
    """Mutable history; :mod:`features.history` reads and advances it one batch at a time."""

    max_entries: int = 2_000_000
    pairs: dict[str, pl.DataFrame] = field(default_factory=dict)
    tails: dict[str, pl.DataFrame] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    reports: ReportSnapshots = field(default_factory=ReportSnapshots)
    # "" on a state unpickled from before key schemes were recorded: never current.
    key_scheme: str = ""

    def __post_init__(self) -> None:
        self.key_scheme = self.key_scheme or KEY_SCHEME

    @property
    def usable(self) -> bool:
        """Whether this process computes keys the way the state's were computed."""
        return self.key_scheme == KEY_SCHEME

    @property
    def entity_count(self) -> int:
        """Distinct entities remembered (the ``entity`` history table, see features.entities)."""
        entities = self.pairs.get("entity")
        return 0 if entities is None else entities.height

    def copy(self, share_reports: bool = False) -> EntityState:
        """An independent copy (frames are immutable, so only containers are copied).

        ``share_reports`` keeps the same report memory instead of a deep copy, for a
        short-lived trial copy that never touches it.
        """
        return EntityState(
            self.max_entries,
            dict(self.pairs),
            dict(self.tails),
            dict(self.metadata),
            self.reports if share_reports else self.reports.copy(),
            self.key_scheme,
        )

    def size_rows(self) -> int:
        return sum(f.height for f in self.pairs.values()) + sum(
            f.height for f in self.tails.values()
        )

    def size_bytes(self) -> int:
        return int(
            sum(f.estimated_size() for f in self.pairs.values())
            + sum(f.estimated_size() for f in self.tails.values())
        )

    def evict(self) -> int:
        """Drop each history's least recently seen keys beyond ``max_entries``; returns how many.

        Filtering keeps the table's key order, which lookups rely on.
        """
        dropped = 0
        for kind, table in self.pairs.items():
            if table.height > self.max_entries:
                recent = pl.col("last").rank("ordinal", descending=True).over("history")
                kept = table.filter(recent <= self.max_entries)
                dropped += table.height - kept.height
                self.pairs[kind] = kept
        return dropped

    def entries(self, metadata: dict[str, str] | None = None) -> dict[str, bytes]:
        """The snapshot's files by name: every table as parquet, the report memory, the
        metadata and the layout version; :meth:`from_entries` reads them back."""
        files = {"metadata.json": json.dumps(metadata or {}).encode()}
        for prefix, tables in (("pairs", self.pairs), ("tails", self.tails)):
            for kind, table in tables.items():
                buffer = io.BytesIO()
                # lz4: 12 % larger than zstd, written in 17 ms a partition instead of 29.
                table.write_parquet(buffer, compression="lz4", statistics=False)
                files[f"{prefix}.{kind}.parquet"] = buffer.getvalue()
        files["reports.json"] = self.reports.to_bytes()
        files["VERSION"] = f"{SNAPSHOT_VERSION} {self.key_scheme}".encode()
        return files

    @classmethod
    def from_entries(cls, files: dict[str, bytes], max_entries: int = 2_000_000) -> EntityState:
        """The state :meth:`entries` described, or an empty state when the layout or the key
        scheme is not this release's (start afresh rather than misread it)."""
        state = cls(max_entries=max_entries)
        if files.get("VERSION", b"").decode() != f"{SNAPSHOT_VERSION} {KEY_SCHEME}":
            return state
        state.metadata = json.loads(files["metadata.json"])
        if "reports.json" in files:
            state.reports.load_bytes(files["reports.json"])
        for name in sorted(files):
            if name.endswith(".parquet"):
                prefix, kind, _ = name.split(".", 2)
                target = state.pairs if prefix == "pairs" else state.tails
                target[kind] = pl.read_parquet(io.BytesIO(files[name]))
        return state

    def to_bytes(self, metadata: dict[str, str] | None = None) -> bytes:
        """The snapshot as one uncompressed zip archive (parquet is compressed already),
        for stores that keep a snapshot as a single value."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for name, data in self.entries(metadata).items():
                archive.writestr(name, data)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, max_entries: int = 2_000_000) -> EntityState:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            files = {name: archive.read(name) for name in archive.namelist()}
        return cls.from_entries(files, max_entries)

    def snapshot(self, directory: Path, metadata: dict[str, str] | None = None) -> None:
        """Write every table to ``directory`` atomically (a sibling temp dir, then rename).

        ``metadata`` (e.g. the input offset the state has consumed up to) is saved
        in the same atomic step, so it always describes exactly this state.
        """
        staging = directory.with_name(directory.name + ".writing")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name, data in self.entries(metadata).items():
            (staging / name).write_bytes(data)
        previous = directory.with_name(directory.name + ".previous")
        shutil.rmtree(previous, ignore_errors=True)
        if directory.exists():
            directory.rename(previous)
        staging.rename(directory)
        shutil.rmtree(previous, ignore_errors=True)

    @classmethod
    def restore(cls, directory: Path, max_entries: int = 2_000_000) -> EntityState:
        """The state saved in ``directory``, or an empty state when there is none."""
        if not (directory / "VERSION").exists():
            return cls(max_entries=max_entries)
        files = {path.name: path.read_bytes() for path in directory.iterdir() if path.is_file()}
        return cls.from_entries(files, max_entries)
