"""What a long training run shows while it works: each stage as it starts and ends.

``train`` reports through a :class:`Progress`; the CLI prints it on stderr when
that is a terminal (the summary stays on stdout, and a script reading stderr
still gets the one-line errors it expects), a library caller sees nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TextIO


class Progress(Protocol):
    def started(self, stage: str) -> None: ...

    def finished(self, stage: str, detail: str, seconds: float) -> None: ...

    def failed(self, stage: str) -> None: ...


class Silent:
    """No output: the default for callers other than the terminal."""

    def started(self, stage: str) -> None:
        pass

    def finished(self, stage: str, detail: str, seconds: float) -> None:
        pass

    def failed(self, stage: str) -> None:
        pass


class Terminal:
    """``reading events ... 39,801 events (2.1 s)``, one line per stage."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream

    def started(self, stage: str) -> None:
        self.stream.write(f"{stage} ...")
        self.stream.flush()

    def finished(self, stage: str, detail: str, seconds: float) -> None:
        self.stream.write(f" {detail + ' ' if detail else ''}({seconds:.1f} s)\n")
        self.stream.flush()

    def failed(self, stage: str) -> None:
        # Erase the unfinished line: the error that follows is the whole story.
        self.stream.write("\r\033[K")
        self.stream.flush()


@contextmanager
def stage(progress: Progress, name: str) -> Iterator[Callable[[str], None]]:
    """Report ``name`` around the block; the block may say what it did through the
    callable it gets (the last thing said is shown)."""
    said: list[str] = []
    started = time.perf_counter()
    progress.started(name)
    try:
        yield said.append
    except BaseException:
        progress.failed(name)
        raise
    progress.finished(name, said[-1] if said else "", time.perf_counter() - started)
