"""Detector factory: every detector is a pyod ``BaseDetector`` (higher score = more anomalous)."""

from __future__ import annotations

from typing import Any

from pyod.models.base import BaseDetector
from pyod.models.iforest import IForest

from models.exceptions import UnknownDetectorError

DEFAULT_DETECTORS = ("iforest",)


def make_detector(name: str, seed: int = 0, **params: Any) -> BaseDetector:
    """Build an unfitted detector by name.

    >>> type(make_detector("iforest")).__name__
    'IForest'
    """
    if name == "iforest":
        options = {"n_estimators": 200, "max_samples": 256, "random_state": seed, **params}
        return IForest(**options)
    raise UnknownDetectorError(f"unknown detector {name!r}; known: {', '.join(DEFAULT_DETECTORS)}")
