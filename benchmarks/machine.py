"""What the numbers were measured on: CPU, cores, memory, load, Python and package versions.

Throughput figures mean little without the machine, so every result file
carries this description (read from ``/proc``, no extra dependency).
"""

from __future__ import annotations

import importlib.util
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "polars",
    "numpy",
    "scikit-learn",
    "pyod",
    "kafka-python",
    "orjson",
    "sqlalchemy",
    "mlflow",
    "pandas",
    "river",
)


def _proc_field(path: str, name: str) -> str | None:
    """The value of ``name: value`` in a /proc file, if present.

    >>> _proc_field("/nonexistent", "x") is None
    True
    """
    try:
        for line in Path(path).read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == name:
                return value.strip()
    except OSError:
        return None
    return None


def memory_bytes() -> int | None:
    total = _proc_field("/proc/meminfo", "MemTotal")
    return int(total.split()[0]) * 1024 if total else None


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def describe() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "host": platform.node(),
        "cpu": _proc_field("/proc/cpuinfo", "model name") or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gib": round((memory_bytes() or 0) / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": package_versions(),
        # kafka-python checksums records in pure Python unless this C extension is present.
        "crc32c_extension": importlib.util.find_spec("crc32c") is not None,
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")},
        "load_average_at_start": [round(x, 2) for x in load],
    }
