"""The MLflow pyfunc face of a :class:`ScoringModel`.

Any MLflow tool can load and call the registered model (``mlflow.pyfunc.load_model``):
input is a frame of feature columns, output is ``score``, ``severity`` and
``is_anomaly``. The scorer unwraps it to reach the full :class:`ScoringModel`
(explanations, thresholds).
"""

from __future__ import annotations

from typing import Any

import joblib
import mlflow.pyfunc
import pandas as pd

from models.bundle import ScoringModel
from models.registry_config import ARTIFACT_KEY as ARTIFACT_KEY


class AuditlensPyfunc(mlflow.pyfunc.PythonModel):  # type: ignore[misc,name-defined]
    """Loads the joblib-serialised ScoringModel from the run's artifacts."""

    scoring_model: ScoringModel

    def load_context(self, context: Any) -> None:  # mlflow.pyfunc.PythonModelContext
        self.scoring_model = joblib.load(context.artifacts[ARTIFACT_KEY])

    def predict(
        self, context: object, model_input: pd.DataFrame, params: dict[str, str] | None = None
    ) -> pd.DataFrame:
        model = self.scoring_model
        X = model_input[list(model.feature_names)].to_numpy(dtype="float64")
        result = model.score_matrix(X)
        return pd.DataFrame(
            {"score": result.score, "severity": result.severity, "is_anomaly": result.is_anomaly}
        )
