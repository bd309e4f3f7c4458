"""The BLAS cap of a serving process: numpy's matrix products on the threads it is given."""

from __future__ import annotations

import json
import os
import subprocess
import sys

# Caps the BLAS libraries loaded with numpy, then prints their thread counts and
# a product's result (the same whatever the threads).
PROGRAM = """
import json, sys
import numpy as np
from threadpoolctl import threadpool_info
from service.blas import limit_blas_threads
capped = limit_blas_threads(int(sys.argv[1]))
threads = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
product = float((np.arange(12.0).reshape(3, 4) @ np.arange(8.0).reshape(4, 2)).sum())
print(json.dumps([capped, threads, product]))
"""


def _run(threads: int) -> list:
    # Two threads to start from, whatever the machine's cores.
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(threads)],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_cap_leaves_numpys_blas_one_thread() -> None:
    capped, threads, product = _run(1)
    assert capped >= 1
    assert threads
    assert set(threads) == {1}
    assert product == 522.0  # column sums (12, 15, 18, 21) · row sums (1, 5, 9, 13)


def test_zero_leaves_the_librarys_own_threads() -> None:
    capped, threads, product = _run(0)
    assert capped == 0
    assert threads
    assert set(threads) == {2}
    assert product == 522.0  # column sums (12, 15, 18, 21) · row sums (1, 5, 9, 13)
