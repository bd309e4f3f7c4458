"""The C allocator set for a process that frees large arrays every batch.

Each batch builds new entity-history tables (numpy arrays of megabytes; the
previous ones are freed once no checkpoint holds them) and frames of the same
size. glibc serves such blocks with ``mmap`` and gives them back on ``free``, but
it raises that threshold to the size of every block freed (up to 32 MiB), so
after the first batch they come from the heap instead, where blocks freed in
between small long-lived objects stay resident. Over a run the scorer's memory
crept up by hundreds of MiB that way. A fixed threshold keeps large blocks on
``mmap``: their memory goes back to the system as soon as they are freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
ENVIRONMENT_OVERRIDE = "MALLOC_MMAP_THRESHOLD_"  # glibc's own variable: it wins when set


def fix_mmap_threshold(threshold_bytes: int) -> bool:
    """Serve blocks of ``threshold_bytes`` and more with ``mmap``, for good; True when set.

    Nothing is changed when ``threshold_bytes`` is 0, when glibc's own
    ``MALLOC_MMAP_THRESHOLD_`` is set, or when the C library is not glibc.
    """
    if threshold_bytes <= 0 or ENVIRONMENT_OVERRIDE in os.environ:
        return False
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):
        mallopt = None
    if mallopt is None:
        log.debug("no mallopt in the C library: the allocator keeps its defaults")
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, ctypes.c_int(threshold_bytes)))
