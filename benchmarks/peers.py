"""Peers on the same events: a naive per-event pipeline and River's HalfSpaceTrees.

* **naive**: what a first streaming scorer often looks like — for each message,
  ``json.loads`` into a dict, a one-row pandas DataFrame, scikit-learn's
  ``IsolationForest.score_samples``. It is handed the feature values (taken from
  the shared pipeline) rather than computing history itself, so its rate is an
  upper bound for that design.
* **River HalfSpaceTrees**: min-max scaled features, ``score_one`` then
  ``learn_one`` per event, the usual online-learning loop.

Both run on a sample of the stream (per-event Python is slow; that is the point).
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.workload import Workload
from features.pipeline import FEATURE_NAMES


def naive(workload: Workload, X: npt.NDArray[np.float64], sample: int) -> dict[str, Any]:
    """Per message: JSON -> dict -> one-row DataFrame -> IsolationForest score."""
    import pandas as pd
    from sklearn.ensemble import IsolationForest

    names = list(FEATURE_NAMES)
    forest = IsolationForest(n_estimators=100, random_state=0).fit(
        pd.DataFrame(X[: min(len(X), 50_000)], columns=names)
    )
    first_event = np.concatenate([[0], np.cumsum(workload.events_per_message)[:-1]])
    messages = [i for i in range(workload.messages) if workload.events_per_message[i] > 0]
    messages = messages[:sample]
    started = time.perf_counter()
    for i in messages:
        json.loads(workload.values[i])
        row = X[first_event[i]]
        forest.score_samples(pd.DataFrame([dict(zip(names, row, strict=True))], columns=names))
    seconds = time.perf_counter() - started
    return {
        "peer": "naive: json.loads -> dict -> 1-row pandas DataFrame -> IsolationForest",
        "events": len(messages),
        "seconds": seconds,
        "events_per_s": len(messages) / seconds if seconds else None,
    }


def river_hst(X: npt.NDArray[np.float64], sample: int) -> dict[str, Any]:
    """score_one + learn_one per event (MinMaxScaler | HalfSpaceTrees)."""
    try:
        from river import (  # type: ignore[import-not-found,unused-ignore]
            anomaly,
            compose,
            preprocessing,
        )
    except ImportError:
        return {"peer": "River HalfSpaceTrees", "skipped": "river is not installed"}
    model = compose.Pipeline(preprocessing.MinMaxScaler(), anomaly.HalfSpaceTrees(seed=7))
    names = list(FEATURE_NAMES)
    rows = X[:sample]
    started = time.perf_counter()
    for row in rows:
        event = dict(zip(names, row.tolist(), strict=True))
        model.score_one(event)
        model.learn_one(event)
    seconds = time.perf_counter() - started
    return {
        "peer": "River HalfSpaceTrees (score_one + learn_one)",
        "events": int(rows.shape[0]),
        "seconds": seconds,
        "events_per_s": rows.shape[0] / seconds if seconds else None,
    }
