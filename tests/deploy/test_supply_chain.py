"""The release artifacts: a wheel that builds to the same bytes twice, and a provenance
statement whose digests are those of the files it names."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HATCHLING = Path(sys.executable).with_name("hatchling")


def build_wheel(out: Path, epoch: str) -> Path:
    done = subprocess.run(
        [str(HATCHLING), "build", "--target", "wheel", "--directory", str(out)],
        cwd=ROOT,
        env={**os.environ, "SOURCE_DATE_EPOCH": epoch},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = out.glob("*.whl")
    return wheel


def test_the_wheel_builds_reproducibly(tmp_path: Path) -> None:
    first = build_wheel(tmp_path / "one", "1767225600")
    second = build_wheel(tmp_path / "two", "1767225600")
    assert first.read_bytes() == second.read_bytes()
    other_time = build_wheel(tmp_path / "three", "1767312000")
    assert other_time.read_bytes() != first.read_bytes(), "the timestamp is what varies"


def test_the_provenance_statement_names_the_artifacts_by_their_digests(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "dist", "1767225600")
    out = tmp_path / "provenance.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "provenance.py"), "--out", str(out), str(wheel)],
        env={**os.environ, "SOURCE_DATE_EPOCH": "1767225600"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    statement = json.loads(out.read_text())
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    assert statement["subject"] == [
        {"name": wheel.name, "digest": {"sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()}}
    ]
    build = statement["predicate"]["buildDefinition"]
    assert build["externalParameters"]["sourceDateEpoch"] == "1767225600"
    lock = next(d for d in build["resolvedDependencies"] if d["uri"] == "uv.lock")
    assert lock["digest"]["sha256"] == hashlib.sha256((ROOT / "uv.lock").read_bytes()).hexdigest()
    assert len(build["externalParameters"]["source"]) == 40  # the commit built


def test_a_missing_artifact_is_refused_in_words(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "deploy" / "provenance.py"),
            "--out",
            str(tmp_path / "p.json"),
            str(tmp_path / "nothing.whl"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "no such artifact" in done.stderr
