"""What attack scenarios and benign episodes share: actors, places in time, row builders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from training.synthetic.batch import Batch
from training.synthetic.clock import DAY, HOUR, MINUTE, Period
from training.synthetic.emitter import Emitter
from training.synthetic.inventory import Inventory
from training.synthetic.org import Human, Org
from training.synthetic.scans import Finding


@dataclass
class Context:
    """Everything a scenario needs; ``findings`` collects resources the scans must report."""

    org: Org
    inventory: Inventory
    period: Period
    rng: np.random.Generator
    emit: Emitter
    findings: list[Finding] = field(default_factory=list)
    used: set[str] = field(default_factory=set)

    def person(
        self, kinds: tuple[str, ...] = ("product",), roles: tuple[str, ...] = ("engineer",)
    ) -> Human:
        """A not yet used person of the given team kinds and roles (in a small organisation
        that has run out of them, one who already played a part)."""
        fitting = [
            h
            for h in self.org.humans
            if self.org.teams[h.team].kind in kinds and h.role in roles and not h.joins
        ]
        pool = [h for h in fitting if h.username not in self.used] or fitting
        chosen = pool[int(self.rng.integers(len(pool)))]
        self.used.add(chosen.username)
        return chosen

    def iam_person(self, kinds: tuple[str, ...]) -> Human:
        """A not yet used person with a legacy IAM user."""
        pool = [
            h
            for h in self.org.humans
            if h.iam_user and self.org.teams[h.team].kind in kinds and h.username not in self.used
        ]
        if not pool:
            pool = [h for h in self.org.humans if h.iam_user and h.username not in self.used]
        chosen = pool[int(self.rng.integers(len(pool)))]
        self.used.add(chosen.username)
        return chosen

    def at(self, day: int, local_hour: float, offset_min: int = 0, duration: int = HOUR) -> int:
        """A time in the test period: ``local_hour`` on test day ``day`` (modulo its length)
        in a zone ``offset_min`` east of UTC, moved by whole days to fit ``duration``."""
        p = self.period
        t = p.test_start + (day % p.test_days) * DAY + int(local_hour * HOUR) - offset_min * MINUTE
        while t < p.test_start:
            t += DAY
        while t + duration > p.end and t - DAY >= p.test_start:
            t -= DAY
        return t

    def in_train(self, day: int, local_hour: float, offset_min: int = 0) -> int:
        """A time in the training period (for episodes that also happen there)."""
        p = self.period
        train_days = (p.test_start - p.start) // DAY
        return p.start + (day % train_days) * DAY + int(local_hour * HOUR) - offset_min * MINUTE

    def gaps(self, n: int, mean_s: float) -> list[int]:
        """``n`` increasing offsets (µs) with exponential gaps."""
        return np.cumsum(self.rng.exponential(mean_s * 1e6, n)).astype(np.int64).tolist()  # type: ignore[no-any-return]


Scenario = Callable[[Context, str], list[Batch]]


def human_row(ctx: Context, person: Human, t: int, vpn: bool = True, **row: Any) -> dict[str, Any]:
    """A Kubernetes call by a person from their own address and client."""
    return {
        "time": t,
        "actor": person.username,
        "ip": person.vpn_ip if vpn else person.office_ip,
        "agent": person.k8s_agent,
        **row,
    }
