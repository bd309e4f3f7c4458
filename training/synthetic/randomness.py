"""Seeded randomness in bulk: independent streams, identifiers and per-row choices.

Every component of the generator draws from its own stream, derived from the
seed and the component's name, so the output is byte-identical for a seed and
adding a draw to one component does not shift the numbers of another.
Identifiers (UUIDs, hex hashes) are made for a whole batch at once from random
bytes instead of one ``uuid.uuid4()`` call per event.
"""

from __future__ import annotations

import zlib

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_ALNUM = np.frombuffer(b"bcdfghjklmnpqrstvwxz2456789", dtype=np.uint8)  # pod-name alphabet
_UUID_DASHES = (8, 13, 18, 23)


def stream(seed: int, name: str) -> np.random.Generator:
    """The generator of one named component; same seed and name, same numbers.

    >>> float(stream(7, "k8s").random()) == float(stream(7, "k8s").random())
    True
    >>> float(stream(7, "k8s").random()) == float(stream(7, "aws").random())
    False
    """
    key = zlib.crc32(name.encode())
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key,)))


def _text(chars: npt.NDArray[np.uint8]) -> list[str]:
    """Rows of ASCII codes -> one string per row, converted in one numpy call."""
    rows, width = chars.shape
    if rows == 0:
        return []
    packed = np.ascontiguousarray(chars).view(f"S{width}").ravel()
    texts: list[str] = packed.astype(f"U{width}").tolist()
    return texts


def hex_strings(rng: np.random.Generator, n: int, width: int) -> list[str]:
    """``n`` random lowercase hex strings of ``width`` characters.

    >>> [len(h) for h in hex_strings(np.random.default_rng(0), 3, 10)]
    [10, 10, 10]
    """
    nibbles = rng.integers(0, 16, size=(n, width), dtype=np.uint8)
    return _text(_HEX[nibbles])


def pod_suffixes(rng: np.random.Generator, n: int, width: int) -> list[str]:
    """Random suffixes in the alphabet Kubernetes uses for generated names (no vowels).

    >>> all(set(s) <= set("bcdfghjklmnpqrstvwxz2456789")
    ...     for s in pod_suffixes(np.random.default_rng(0), 5, 5))
    True
    """
    picks = rng.integers(0, len(_ALNUM), size=(n, width))
    return _text(_ALNUM[picks])


def uuid4_strings(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` random version-4 UUIDs in canonical text form, made in bulk.

    >>> import uuid
    >>> ids = uuid4_strings(np.random.default_rng(1), 2)
    >>> [uuid.UUID(i).version for i in ids], len(set(ids))
    ([4, 4], 2)
    """
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    nibbles = np.empty((n, 32), dtype=np.uint8)
    nibbles[:, 0::2] = raw >> 4
    nibbles[:, 1::2] = raw & 0x0F
    digits = _HEX[nibbles]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    keep = np.ones(36, dtype=bool)
    keep[list(_UUID_DASHES)] = False
    out[:, keep] = digits
    return _text(out)


def row_choice(
    rng: np.random.Generator, weights: npt.NDArray[np.float64], rows: IntArray
) -> IntArray:
    """For each entry of ``rows``, a column drawn from that row of ``weights``.

    ``weights`` is a (rows × options) table of non-negative weights (each row a
    personal distribution, e.g. one actor's mix of actions); the draw is one
    vectorised inverse-CDF lookup for the whole batch.

    >>> w = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> row_choice(np.random.default_rng(0), w, np.array([0, 1, 1, 0])).tolist()
    [0, 1, 1, 0]
    """
    cdf = np.cumsum(weights, axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random(len(rows))
    picked = (u[:, None] >= cdf[rows]).sum(axis=1)
    chosen: IntArray = np.minimum(picked, weights.shape[1] - 1).astype(np.int64)
    return chosen


def group_ranks(counts: IntArray) -> IntArray:
    """0, 1, ... within each group of a run-length encoded sequence.

    >>> group_ranks(np.array([2, 0, 3])).tolist()
    [0, 1, 0, 1, 2]
    """
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    ranks: IntArray = np.arange(total, dtype=np.int64) - starts
    return ranks
