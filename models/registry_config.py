"""Where the model registry lives: kept apart from :mod:`models.registry` so that code
which only passes the configuration around does not import MLflow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ARTIFACT_KEY = "scoring_model"  # the run artifact holding the pickled ScoringModel


@dataclass(frozen=True)
class RegistryConfig:
    tracking_uri: str
    artifact_root: Path
    model_name: str = "auditlens"
