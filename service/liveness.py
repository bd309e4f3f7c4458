"""Whether the scorer is making progress: the signal behind ``/livez``.

An orchestrator restarts a process that is alive but stuck; it must not restart
one that is merely idle (a quiet stream) or waiting for a dependency that is away
(``/readyz`` reports those, and the scorer resumes by itself). So "stuck" means:
work is waiting and none has finished for ``stall_s`` — a batch has been in
progress that long, or the broker holds records for this scorer and no batch has
finished since.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class Progress:
    """Updated by the scorer thread, read by the API's thread; times are monotonic."""

    batch_started: float | None = None
    last_batch_done: float = field(default_factory=time.monotonic)
    # Records known to be waiting on the assigned partitions (high watermark minus the
    # next offset to process), as of the last poll.
    backlog: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def started(self, now: float | None = None) -> None:
        with self._lock:
            self.batch_started = time.monotonic() if now is None else now

    def finished(self, backlog: int, now: float | None = None) -> None:
        with self._lock:
            self.batch_started = None
            self.last_batch_done = time.monotonic() if now is None else now
            self.backlog = backlog

    def polled(self, backlog: int, now: float | None = None) -> None:
        """A poll that started no batch: an idle scorer with nothing waiting is progress."""
        with self._lock:
            self.backlog = backlog
            if backlog == 0:
                self.last_batch_done = time.monotonic() if now is None else now

    def stalled_for(self, now: float | None = None) -> float:
        """Seconds work has waited with nothing finished; 0 when nothing waits.

        >>> p = Progress(last_batch_done=0.0)
        >>> p.polled(backlog=0, now=50.0); p.stalled_for(now=100.0)
        0.0
        >>> p.polled(backlog=7, now=60.0); p.stalled_for(now=100.0)
        50.0
        >>> p.started(now=90.0); p.stalled_for(now=100.0)
        10.0
        """
        now = time.monotonic() if now is None else now
        with self._lock:
            if self.batch_started is not None:
                return now - self.batch_started
            if self.backlog > 0:
                return now - self.last_batch_done
            return 0.0
