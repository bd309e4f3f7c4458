"""Write a provenance statement for built artifacts (in-toto Statement, SLSA v1 shape).

It binds what was built (each artifact's SHA-256) to what it was built from: the
source commit (and whether the tree had uncommitted changes), the hash of
``uv.lock`` (every dependency, pinned with its own hashes) and the SBOM written
alongside. A verifier recomputes the digests and compares. It is a statement, not
a signature: signing it (e.g. with Sigstore) is the release pipeline's step.

    python deploy/provenance.py --out dist/provenance.intoto.json dist/*.whl dist/*.tar.gz
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://github.com/auditlens/auditlens/blob/main/deploy/provenance.py"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def statement(artifacts: list[Path], sbom: Path | None) -> dict[str, Any]:
    commit = _git("rev-parse", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    dependencies = [
        {
            "uri": f"git+{_git('remote', 'get-url', 'origin') or ROOT.as_uri()}@{commit}",
            "digest": {"gitCommit": commit},
        },
        {"uri": "uv.lock", "digest": {"sha256": sha256(ROOT / "uv.lock")}},
    ]
    if sbom is not None:
        dependencies.append({"uri": sbom.name, "digest": {"sha256": sha256(sbom)}})
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": p.name, "digest": {"sha256": sha256(p)}} for p in artifacts],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "source": commit,
                    "uncommittedChanges": dirty,
                    "sourceDateEpoch": epoch,
                },
                "internalParameters": {
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                },
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": {"id": os.environ.get("AUDITLENS_BUILDER_ID", "local: make sbom")},
                "metadata": {"finishedOn": datetime.now(UTC).isoformat(timespec="seconds")},
            },
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("artifacts", type=Path, nargs="+", help="files the statement covers")
    parser.add_argument("--sbom", type=Path, help="the SBOM built alongside")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.artifacts if not p.is_file()]
    if missing:
        print(f"provenance: no such artifact: {', '.join(missing)}", file=sys.stderr)
        return 2
    document = statement(args.artifacts, args.sbom)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    source = document["predicate"]["buildDefinition"]["externalParameters"]["source"]
    print(f"wrote {args.out}: {len(args.artifacts)} artifacts from {source[:12]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
