"""Detector factory: every detector is a pyod ``BaseDetector`` (higher score = more anomalous).

``iforest`` (pyod's isolation forest, scored by :mod:`models.isolation_forest`) and
``autoencoder`` (:mod:`models.autoencoder`) are the production baselines; any
other pyod detector can be named for
experiments (``ecod``, ``hbos``, ``copod``, ``lof``, ``knn``, ``pca``, ``loda``, ...).
"""

from __future__ import annotations

import importlib
import inspect
from typing import TYPE_CHECKING, Any

from models.exceptions import UnknownDetectorError

if TYPE_CHECKING:  # pyod and scikit-learn load with the first detector, not with this module
    from pyod.models.base import BaseDetector

DEFAULT_DETECTORS = ("iforest", "autoencoder")


def make_detector(name: str, seed: int = 0, **params: Any) -> BaseDetector:
    """Build an unfitted detector by name.

    >>> [type(make_detector(n)).__name__ for n in ("iforest", "autoencoder", "ecod")]
    ['FastIForest', 'MLPAutoencoder', 'ECOD']
    >>> make_detector("nope")
    Traceback (most recent call last):
    ...
    models.exceptions.UnknownDetectorError: unknown detector 'nope': not iforest, autoencoder or...
    """
    if name == "iforest":
        from models.isolation_forest import FastIForest

        defaults = {"n_estimators": 200, "max_samples": 512, "random_state": seed}
        return FastIForest(**{**defaults, **params})
    if name == "autoencoder":
        from models.autoencoder import MLPAutoencoder

        return MLPAutoencoder(**{"random_state": seed, **params})
    return _pyod_detector(name, seed, params)


def _pyod_detector(name: str, seed: int, params: dict[str, Any]) -> BaseDetector:
    """Any pyod detector by module name (``pyod.models.<name>``), e.g. ``ecod`` -> ``ECOD``."""
    from pyod.models.base import BaseDetector

    if not name.isidentifier():
        raise UnknownDetectorError(f"unknown detector {name!r}")
    try:
        module = importlib.import_module(f"pyod.models.{name}")
    except ImportError as exc:
        raise UnknownDetectorError(
            f"unknown detector {name!r}: not iforest, autoencoder or a pyod detector"
        ) from exc
    for _, cls in inspect.getmembers(module, inspect.isclass):
        if cls.__name__.lower() == name.lower() and issubclass(cls, BaseDetector):
            accepted = inspect.signature(cls.__init__).parameters
            options = {"random_state": seed} if "random_state" in accepted else {}
            return cls(**{**options, **params})
    raise UnknownDetectorError(f"pyod.models.{name} has no detector class named {name!r}")
