"""A throwaway PostgreSQL cluster from Debian's ``postgresql`` package, on a free port.

``initdb`` refuses to run as root, so when the tests run as root the cluster is
created and run as the unprivileged ``postgres`` account (created by the Debian
package) through ``runuser``. The data directory is removed on stop.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from service.exceptions import ConfigurationError
from service.localstack import free_port

_INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found. On Debian/Ubuntu: "
    "apt-get update && apt-get install -y postgresql (the Makefile's setup does this)"
)


def find_bin_dir() -> Path:
    """Locate initdb/pg_ctl: Debian keeps them off PATH under /usr/lib/postgresql/<v>/bin."""
    on_path = shutil.which("initdb")
    if on_path is not None:
        return Path(on_path).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if not candidates:
        raise ConfigurationError(_INSTALL_HINT)
    return Path(candidates[0]).parent


@dataclass
class PostgresCluster:
    """A cluster in a temporary directory; ``url`` is a SQLAlchemy psycopg URL."""

    port: int = field(default_factory=free_port)
    user: str = "auditlens"
    workdir: Path | None = None
    _run_as: str | None = None
    _frozen: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/postgres"

    def _cmd(self, *argv: str) -> list[str]:
        if self._run_as is None:
            return list(argv)
        return ["runuser", "-u", self._run_as, "--", *argv]

    def start(self, timeout_s: float = 60.0) -> PostgresCluster:
        bin_dir = find_bin_dir()
        self.workdir = Path(tempfile.mkdtemp(prefix="auditlens-pg-"))
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise ConfigurationError(
                    "running as root, and there is no unprivileged 'postgres' account to run "
                    "initdb as; " + _INSTALL_HINT
                ) from exc
            self._run_as = "postgres"
            os.chown(self.workdir, account.pw_uid, account.pw_gid)
        data = self.workdir / "data"
        init = subprocess.run(
            self._cmd(
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                self.user,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if init.returncode != 0:
            raise ConfigurationError(f"initdb failed:\n{init.stderr[-2000:]}")
        return self.resume(timeout_s)

    def resume(self, timeout_s: float = 60.0) -> PostgresCluster:
        """Start the server on the cluster's data (``pg_ctl start``); return once it answers."""
        assert self.workdir is not None, "start() creates the cluster first"
        bin_dir = find_bin_dir()
        data = self.workdir / "data"
        options = (
            f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        started = subprocess.run(
            self._cmd(
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(self.workdir / "postgres.log"),
                "-w",
                "-t",
                str(int(timeout_s)),
                "start",
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if started.returncode != 0:
            log = (self.workdir / "postgres.log").read_text(errors="replace")[-2000:]
            self.stop()
            raise ConfigurationError(f"PostgreSQL did not start:\n{started.stderr}\n{log}")
        self._wait_until_ready(timeout_s)
        return self

    def _wait_until_ready(self, timeout_s: float) -> None:
        import psycopg

        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with psycopg.connect(
                    f"host=127.0.0.1 port={self.port} user={self.user} dbname=postgres"
                ) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def pause(self) -> None:
        """Stop the server (``pg_ctl stop -m fast``) and keep its data, for :meth:`resume`."""
        if self.workdir is None:
            return
        data = self.workdir / "data"
        if (data / "postmaster.pid").exists():
            subprocess.run(
                self._cmd(
                    str(find_bin_dir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"
                ),
                capture_output=True,
                check=False,
            )

    def freeze(self) -> None:
        """Stop the server's processes (SIGSTOP) without closing anything: a store that
        hangs, as one behind a dead network path does, for :meth:`thaw`."""
        self._frozen = [pid for pid in self._processes() if _signal(pid, signal.SIGSTOP)]

    def thaw(self) -> None:
        """Continue the processes :meth:`freeze` stopped (those that still exist)."""
        for pid in self._frozen:
            _signal(pid, signal.SIGCONT)
        self._frozen = []

    def _processes(self) -> list[int]:
        """The postmaster and its children (backends, background workers)."""
        assert self.workdir is not None
        pidfile = self.workdir / "data" / "postmaster.pid"
        postmaster = int(pidfile.read_text().splitlines()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process ended while we looked
            if int(fields[1]) == postmaster:
                children.append(int(stat.parent.name))
        return [postmaster, *children]

    def stop(self) -> None:
        """Stop the server and remove the cluster."""
        if self.workdir is None:
            return
        self.pause()
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir = None

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _signal(pid: int, signum: int) -> bool:
    """Send ``signum``; False if the process has ended (a backend may exit meanwhile)."""
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return False
    return True
