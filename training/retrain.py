"""``auditlens retrain``: a challenger from the archive, taught by the analysts' verdicts.

The baseline is retrained on what the scorers saw over the last window, the same
adapters and features as any training, with two corrections from triage: events
closed as true positives are attacks and never part of "normal", and events
closed as false or benign positives are normal behaviour the champion got wrong,
weighted up so that the challenger learns them. The new version gets the alias
``challenger`` and never ``champion``: promotion is the gate's decision, taken
on live evidence (shadow scoring), not on the data it was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from features.archive import newest_day
from models.registry_config import RegistryConfig
from training.progress import Progress
from training.train import TrainingOptions, TrainingResult, train
from training.verdicts import read_verdicts


@dataclass(frozen=True)
class RetrainResult:
    training: TrainingResult
    since: date | None
    excluded_true_positives: int
    benign_weighted: int


def window_start(archive_url: str, days: int, today: date | None = None) -> date:
    """The first day of the last ``days`` days of the archive: counted back from its
    newest event day (a backfill or replay of older events included), else from today."""
    newest = newest_day(archive_url) or today or datetime.now(UTC).date()
    return newest - timedelta(days=days - 1)


def retrain(
    config: RegistryConfig,
    archive_url: str,
    store_url: str,
    since: date | None,
    alert_rate: float,
    benign_weight: int = 3,
    seed: int = 0,
    progress: Progress | None = None,
) -> RetrainResult:
    """Train on the archive from ``since`` on with the store's verdicts; alias ``challenger``."""
    from models import registry

    verdicts = read_verdicts(store_url)
    # The challenger continues the champion's history, so the archived events get the
    # features the scorers gave them (a history started afresh makes everything look
    # newer than it is live, and calibrates the challenger to that).
    champion = registry.load(config, "champion")
    options = TrainingOptions(
        history=champion.model.baseline_state if champion is not None else None,
        exclude_event_ids=verdicts.true_positive,
        benign_event_ids=verdicts.benign,
        benign_weight=benign_weight,
        alert_rate=alert_rate,
        seed=seed,
        archive=archive_url,
        since=since,
    )
    result = train([], config, options, progress)
    registry.set_alias(config, "challenger", result.version)
    registry.set_version_tags(
        config,
        result.version,
        {
            "retrain.source": f"archive since {since.isoformat() if since else 'its start'}",
            "retrain.events": str(result.events),
            "retrain.excluded_true_positives": str(len(verdicts.true_positive)),
            "retrain.benign_weighted": str(len(verdicts.benign)),
        },
    )
    return RetrainResult(result, since, len(verdicts.true_positive), len(verdicts.benign))
