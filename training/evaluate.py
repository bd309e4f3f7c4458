"""Detection quality on labelled events: the numbers data scientists compare across runs.

An *alert budget* is the fraction of events an analyst team can look at: at a
0.5 % budget the top 0.5 % of scores are alerts. Recall per scenario at a budget
is the fraction of that scenario's events among those alerts; a scenario is
*caught* when at least one of its events is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import polars as pl

BUDGETS = (0.001, 0.005, 0.01)
TOP_K = 100


def ties_at_top(scores: npt.NDArray[np.float64], share: float = 0.01) -> int:
    """Events of the top ``share`` whose score equals another's: a ranking needs none.

    >>> ties_at_top(np.array([1.0, 2.0, 3.0, 99.0, 99.0] + [0.0] * 95), share=0.05)
    2
    """
    count = max(1, math.floor(len(scores) * share))
    top = np.sort(scores)[::-1][:count]
    _, counts = np.unique(top, return_counts=True)
    return int(counts[counts > 1].sum())


def read_labels(path: str) -> pl.DataFrame:
    """``event_id,scenario`` rows (every listed event is an attack of that scenario)."""
    return pl.read_csv(path, schema_overrides={"event_id": pl.String, "scenario": pl.String})


def budget_threshold(scores: npt.NDArray[np.float64], budget: float) -> float:
    """The score of the last alert when the top ``budget`` fraction are alerts.

    >>> budget_threshold(np.arange(1000.0), 0.01)
    990.0
    """
    alerts = max(1, math.floor(len(scores) * budget))
    return float(np.sort(scores)[::-1][alerts - 1])


def evaluate(
    event_ids: Sequence[str],
    scores: npt.NDArray[np.float64],
    labels: pl.DataFrame,
    budgets: Sequence[float] = BUDGETS,
) -> dict[str, float]:
    """ROC-AUC, PR-AUC, precision of the top 100, ties at the top, and per scenario its
    ROC-AUC (its events against every normal event) and recall at each budget, as flat
    metric names."""
    from sklearn.metrics import average_precision_score, roc_auc_score  # seconds to import

    frame = pl.DataFrame({"event_id": list(event_ids), "score": scores}).join(
        labels, on="event_id", how="left"
    )
    is_attack = frame["scenario"].is_not_null().to_numpy()
    metrics: dict[str, float] = {"validation_events": float(len(frame))}
    metrics["attack_events"] = float(is_attack.sum())
    if 0 < is_attack.sum() < len(frame):
        metrics["roc_auc"] = float(roc_auc_score(is_attack, scores))
        metrics["pr_auc"] = float(average_precision_score(is_attack, scores))
    top = np.argsort(-scores, kind="stable")[:TOP_K]
    if len(top):
        metrics[f"precision_top{TOP_K}"] = float(is_attack[top].mean())
    metrics["ties_top1pct"] = float(ties_at_top(scores))
    scenarios = sorted(s for s in frame["scenario"].unique().to_list() if s is not None)
    normal_scores = scores[~is_attack]
    scenario_of = frame["scenario"].to_numpy()
    for scenario in scenarios if normal_scores.size else []:
        mine = scores[scenario_of == scenario]
        both = np.concatenate([mine, normal_scores])
        truth = np.concatenate([np.ones(mine.size), np.zeros(normal_scores.size)])
        metrics[f"roc_auc.{_metric_name(scenario)}"] = float(roc_auc_score(truth, both))
    for budget in budgets:
        threshold = budget_threshold(scores, budget)
        tag = f"{budget * 100:g}pct"
        flagged = frame.with_columns(alert=pl.col("score") >= threshold)
        per_scenario = (
            flagged.filter(pl.col("scenario").is_not_null())
            .group_by("scenario")
            .agg(pl.col("alert").mean().alias("recall"), pl.col("alert").any().alias("caught"))
        )
        caught = 0
        for scenario, recall, was_caught in per_scenario.iter_rows():
            metrics[f"recall_{tag}.{_metric_name(scenario)}"] = float(recall)
            caught += int(was_caught)
        if scenarios:
            attack_alerts = flagged.filter(pl.col("scenario").is_not_null())["alert"]
            metrics[f"recall_{tag}"] = float(attack_alerts.cast(pl.Float64).to_numpy().mean())
            metrics[f"scenarios_caught_{tag}"] = float(caught)
            metrics["scenarios_total"] = float(len(scenarios))
    return metrics


def _metric_name(scenario: str) -> str:
    """MLflow metric names allow letters, digits, ``_ - . /`` and spaces only.

    >>> _metric_name("stratus:aws.persistence.iam-create-admin-user")
    'stratus_aws.persistence.iam-create-admin-user'
    """
    return "".join(c if c.isalnum() or c in "_-./ " else "_" for c in scenario)
