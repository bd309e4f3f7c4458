"""Scorer processes the benchmark starts, and the guarantee that it stops every one.

Each scorer is a real ``python -m service.cli serve --role scorer`` process. Every
started process is registered here until it is stopped, so the entry point can
stop whatever is still running on any exit path (an error, a phase time-out,
Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType

_RUNNING: dict[int, subprocess.Popen[bytes]] = {}


def peak_rss_bytes(pid: int) -> int | None:
    """The process's peak resident set (``VmHWM``), from /proc; None once it has exited.

    >>> import os
    >>> peak_rss_bytes(os.getpid()) > 0
    True
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def first_error(log: str) -> str:
    """The first error a scorer logged: its message and the exception's last line.

    >>> line = '{"level":"error","message":"listener failed","exception":"T\\\\nValueError: x"}'
    >>> first_error("started\\n" + line)
    'listener failed (ValueError: x)'
    >>> first_error("Traceback (most recent call last):\\n  File x\\nKeyError: 'a'")
    "KeyError: 'a'"
    """
    for line in log.splitlines():
        if line.startswith("{") and '"level":"error"' in line:
            try:
                record = json.loads(line)
            except ValueError:
                return line[:300]
            cause = str(record.get("exception", "")).strip().splitlines()
            return f"{record.get('message')} ({cause[-1]})" if cause else str(record.get("message"))
    lines = [line for line in log.splitlines() if line and not line.startswith(" ")]
    errors = [line for line in lines if "Error" in line.split(":", 1)[0]]
    return errors[0][:300] if errors else (lines[-1][:300] if lines else "no output")


def stop(process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    """SIGTERM (the scorer checkpoints and exits), SIGKILL if it does not in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    _RUNNING.pop(process.pid, None)


def stop_all() -> None:
    for process in list(_RUNNING.values()):
        stop(process, timeout_s=30.0)


class Scorers:
    """``count`` scorer processes with one environment; stopped when the block ends."""

    def __init__(self, env: dict[str, str], count: int, log_dir: Path, label: str) -> None:
        self.env = env
        self.count = count
        self.log_dir = log_dir
        self.label = label
        self.processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Scorers:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for index in range(self.count):
            with (self.log_dir / f"{self.label}-{index}.log").open("wb") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "service.cli", "serve", "--role", "scorer"],
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            _RUNNING[process.pid] = process
            self.processes.append(process)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            stop(process)

    def check_alive(self) -> None:
        """Raise, naming the first error the scorer logged, if a scorer died."""
        for index, process in enumerate(self.processes):
            if process.poll() is not None:
                log = (self.log_dir / f"{self.label}-{index}.log").read_text(errors="replace")
                raise RuntimeError(
                    f"scorer {self.label}-{index} exited with {process.returncode}; "
                    f"first error: {first_error(log)}\n{log[-3000:]}"
                )

    def peak_rss(self) -> list[int]:
        return [peak_rss_bytes(p.pid) or 0 for p in self.processes]
