"""The fixed mmap threshold: large blocks stay on mmap after glibc would have slid it up."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator")

# Frees a 20 MiB block (glibc then serves blocks up to 20 MiB from the heap), allocates
# 2 MiB and prints whether glibc marked that block as mmapped (bit 1 of its size word).
PROGRAM = """
import ctypes, sys
from service.allocator import fix_mmap_threshold
print(fix_mmap_threshold(int(sys.argv[1])))
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.free(libc.malloc(20 << 20))
block = libc.malloc(2 << 20)
print(bool(ctypes.c_size_t.from_address(block - 8).value & 2))
"""


def _run(threshold: int, **env: str) -> list[str]:
    environment = {k: v for k, v in os.environ.items() if k != "MALLOC_MMAP_THRESHOLD_"}
    return subprocess.run(
        [sys.executable, "-c", PROGRAM, str(threshold)],
        env={**environment, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()


def test_a_fixed_threshold_keeps_large_blocks_on_mmap_after_a_larger_one_is_freed() -> None:
    assert _run(1 << 20) == ["True", "True"]


def test_glibcs_sliding_threshold_serves_them_from_the_heap_without_it() -> None:
    assert _run(0) == ["False", "False"]


def test_glibcs_own_variable_wins() -> None:
    # glibc read it at start: 4 MiB, so the 2 MiB block comes from the heap.
    assert _run(1 << 20, MALLOC_MMAP_THRESHOLD_=str(4 << 20)) == ["False", "False"]
