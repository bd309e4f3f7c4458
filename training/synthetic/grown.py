"""The default organisation a year on, not another one: the shift the optimizer must notice.

Two more teams, more people, and people's kubectl replaced by Lens, k9s and a newer
kubectl; names, hours and machines stay the default's. Not one of
:data:`~training.synthetic.profile.PROFILES`, which are other organisations for
measuring detection: this one is for drift (``tests/integration/test_optimizer_loop.py``,
``benchmarks/drift_shift.py``).
"""

from __future__ import annotations

import dataclasses

from training.synthetic.org import TEAM_SPECS
from training.synthetic.profile import DEFAULT

GROWN = dataclasses.replace(
    DEFAULT,
    name="grown",
    description="the default organisation with two new teams and new kubectl clients",
    people=360,
    teams=(*(spec[0] for spec in TEAM_SPECS), "billing", "logistics"),
    kubectl_agents=(
        "Lens/2024.11.261604",
        "k9s/v0.32.7 (darwin/arm64) kubernetes/$Format",
        "kubectl/v1.32.0 (darwin/arm64) kubernetes/70d3cc9",
    ),
    kubectl_weights=(0.4, 0.3, 0.3),
)
