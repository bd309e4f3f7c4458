"""Every command, every bad input and outage: one line on stderr, the right exit code, no
traceback, and an answer within a time limit (the real CLI in a child process)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from service.cli import EXIT_INPUT, EXIT_UNAVAILABLE
from tests.integration.conftest import cli


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Case:
    args: list[str]
    code: int
    says: tuple[str, ...]  # every fragment must be in the line
    env: dict[str, str] = field(default_factory=dict)
    limit_s: float = 30.0


def _inputs(root: Path, fixtures: Path) -> dict[str, Path]:
    empty = root / "empty.jsonl"
    empty.write_bytes(b"")
    noise = root / "noise.bin"
    noise.write_bytes(os.urandom(4096))
    lines = (fixtures / "cloudtrail-stratus-detonations").rglob("*.json*")
    source = next(iter(sorted(lines)))
    few = root / "few.json"
    few.write_bytes(source.read_bytes())
    return {"empty": empty, "noise": noise, "few": few}


def cases(root: Path, fixtures: Path) -> dict[str, Case]:
    files = _inputs(root, fixtures)
    port = closed_port()
    store_down = {
        "AUDITLENS_STORE_URL": f"postgresql+psycopg://auditlens:s3cret@127.0.0.1:{port}/x"
    }
    mlflow_down = {"MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}"}
    broker_down = {"AUDITLENS_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{port}"}
    return {
        "train on an empty file": Case(
            ["train", "--data", str(files["empty"])], EXIT_INPUT, ("no usable events",)
        ),
        "train on random bytes": Case(
            ["train", "--data", str(files["noise"])], EXIT_INPUT, ("no usable events",)
        ),
        "train on too few events": Case(
            ["train", "--data", str(files["few"])], EXIT_INPUT, ("too few", "at least 300")
        ),
        "train on a missing file": Case(
            ["train", "--data", str(root / "missing.jsonl")], EXIT_INPUT, ("missing.jsonl",)
        ),
        "score without a model": Case(
            ["score", "--data", str(files["few"]), "--out", str(root / "out.jsonl")],
            EXIT_INPUT,
            ("carries the alias", "auditlens train"),
        ),
        "an invalid setting": Case(
            ["keys", "list"], EXIT_INPUT, ("AUDITLENS_API_PORT",), {"AUDITLENS_API_PORT": "x"}
        ),
        "keys list, store down": Case(
            ["keys", "list"], EXIT_UNAVAILABLE, ("store", "AUDITLENS_STORE_URL"), store_down
        ),
        "serve the API, store down": Case(
            ["serve", "--role", "api"], EXIT_UNAVAILABLE, ("AUDITLENS_STORE_URL",), store_down
        ),
        "models list, tracking server down": Case(
            ["models", "list"], EXIT_UNAVAILABLE, ("MLflow", "MLFLOW_TRACKING_URI"), mlflow_down
        ),
        "score, tracking server down": Case(
            ["score", "--data", str(files["few"]), "--out", str(root / "o.jsonl")],
            EXIT_UNAVAILABLE,
            ("MLFLOW_TRACKING_URI",),
            mlflow_down,
        ),
        "replay, broker down": Case(
            ["replay", "--data", str(files["few"]), "--topic", "t"],
            EXIT_UNAVAILABLE,
            ("Kafka", "AUDITLENS_KAFKA_BOOTSTRAP_SERVERS"),
            broker_down,
        ),
        "train from a topic, broker down": Case(
            ["train", "--topic", "t"],
            EXIT_UNAVAILABLE,
            ("Kafka", "AUDITLENS_KAFKA_BOOTSTRAP_SERVERS"),
            broker_down,
        ),
    }


def run(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = cli(env, *args, timeout_s=120)
    return done, time.monotonic() - started


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AUDITLENS_", "MLFLOW_"))}
    return {**keep, "AUDITLENS_DATA_DIR": str(tmp_path / "data")}


def check(case: Case, done: subprocess.CompletedProcess[str], seconds: float) -> list[str]:
    """Everything wrong with one command's answer (empty: it is right)."""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    problems = []
    if "Traceback" in done.stderr:
        problems.append("a traceback")
    if len(lines) != 1 or not lines[0].startswith("auditlens: "):
        problems.append(f"not one 'auditlens: ' line: {lines}")
    problems += [f"no {fragment!r}" for fragment in case.says if fragment not in done.stderr]
    if "s3cret" in done.stderr:
        problems.append("the store password is printed")
    if done.returncode != case.code:
        problems.append(f"exit code {done.returncode}, not {case.code}")
    if seconds >= case.limit_s:
        problems.append(f"{seconds:.1f} s, the limit is {case.limit_s:.0f} s")
    return problems


def test_every_command_answers_every_bad_input_and_outage_in_one_line(
    tmp_path: Path, fixtures_dir: Path, base_env: dict[str, str]
) -> None:
    """The table runs two commands at a time (each is a fresh interpreter, mostly imports)."""
    table = cases(tmp_path, fixtures_dir)
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = dict(
            zip(
                table,
                pool.map(lambda case: run(case.args, {**base_env, **case.env}), table.values()),
                strict=True,
            )
        )
    wrong = {
        name: problems for name, case in table.items() if (problems := check(case, *answers[name]))
    }
    assert not wrong, "\n".join(
        f"{name}: {'; '.join(p)}\n  {answers[name][0].stderr.strip()[-500:]}"
        for name, p in wrong.items()
    )


def test_debug_adds_the_traceback(tmp_path: Path, base_env: dict[str, str]) -> None:
    done, _ = run(["--debug", "train", "--data", str(tmp_path / "missing.jsonl")], base_env)
    assert "Traceback" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("auditlens: ")
    assert done.returncode == EXIT_INPUT
