"""Analysts' verdicts as training signal.

Events an analyst closed as ``true_positive`` are attacks: they must never teach
the baseline what normal looks like, so they are excluded. Events closed as
``false_positive`` or ``benign_positive`` are normal behaviour the model got wrong;
they can be weighted up so the next baseline learns them.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa


@dataclass(frozen=True)
class Verdicts:
    true_positive: frozenset[str]
    benign: frozenset[str]


def read_verdicts(store_url: str) -> Verdicts:
    """Event ids by verdict from the anomaly store (SQLite or PostgreSQL)."""
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT event_id, verdict FROM anomalies WHERE verdict IS NOT NULL")
            ).all()
    finally:
        engine.dispose()
    return Verdicts(
        true_positive=frozenset(e for e, v in rows if v == "true_positive"),
        benign=frozenset(e for e, v in rows if v in ("false_positive", "benign_positive")),
    )
