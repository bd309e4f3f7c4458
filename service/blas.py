"""The BLAS thread pool of a serving process.

numpy's OpenBLAS starts one worker thread per core when it is imported, and
after each matrix product those workers spin for a while before they sleep. The
scorer multiplies small matrices (a batch of events by a few dozen features, in
the autoencoder) between polars queries, and on the benchmark's two-core machine
the spinning worker took 16-19 % of a core from the scoring thread, the consumer
and polars, for no gain on products that small. One thread is the default;
training, which multiplies large matrices, keeps the library's own.
"""

from __future__ import annotations

import logging

from threadpoolctl import threadpool_info, threadpool_limits

log = logging.getLogger(__name__)


def limit_blas_threads(threads: int) -> int:
    """Cap every loaded BLAS library at ``threads`` threads; returns how many were capped.

    0 leaves them as they are (their own default, or ``OPENBLAS_NUM_THREADS`` and
    the like). Only libraries loaded by now are capped: call it once the scoring
    modules are imported.
    """
    if threads <= 0:
        return 0
    threadpool_limits(limits=threads, user_api="blas")
    capped = [info for info in threadpool_info() if info["user_api"] == "blas"]
    log.debug("BLAS capped at %d thread(s): %s", threads, [i["filepath"] for i in capped])
    return len(capped)
