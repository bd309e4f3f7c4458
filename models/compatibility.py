"""Whether this release can score with a trained model: the one check every loader makes."""

from __future__ import annotations

from features.pipeline import FEATURE_SET_VERSION
from features.state import KEY_SCHEME
from models.bundle import ScoringModel
from models.exceptions import IncompatibleModelError


def check_compatible(model: ScoringModel, name: str, version: str, alias: str = "") -> None:
    """Refuse, in words that say what to do, a model of another feature set or key scheme.

    Its features would not mean what this release computes, or its history would
    match nothing this process keys.
    """
    alias = alias or f"version {version}"
    trained_on = getattr(model, "feature_set_version", None)
    if trained_on != FEATURE_SET_VERSION:
        raise IncompatibleModelError(
            f"{name} version {version} ({alias}) was trained on feature set "
            f"{trained_on}; this release computes feature set {FEATURE_SET_VERSION}: "
            "retrain with `auditlens train --data ... --promote`"
        )
    if not model.baseline_state.usable:
        raise IncompatibleModelError(
            f"{name} version {version} ({alias}) keeps its history keyed with "
            f"{model.baseline_state.key_scheme or 'an unrecorded scheme'}; this release keys "
            f"with {KEY_SCHEME} (another polars): "
            "retrain with `auditlens train --data ... --promote`"
        )
