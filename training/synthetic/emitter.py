"""Turning what happened into every line it leaves behind, across sources.

A Kubernetes write that OPA's webhook covers leaves an audit event *and* a
decision log; an ``exec`` into a pod leaves an audit event *and* a Falco
alert. :class:`Emitter` is the one place that knows these links, so normal
behaviour, benign episodes and attacks all produce consistent evidence.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from training.synthetic import admission, runtime
from training.synthetic.batch import Batch
from training.synthetic.formats import cloudtrail, k8s, opa
from training.synthetic.formats.cloudtrail import AwsCalls
from training.synthetic.formats.k8s import K8sCalls
from training.synthetic.org import AwsPrincipal, Org


class Emitter:
    """Serialises calls with one seeded stream for identifiers (order of calls fixes the output)."""

    def __init__(self, rng: np.random.Generator, org: Org) -> None:
        self.rng = rng
        self.org = org
        self.groups = {name: identity.groups for name, identity in org.k8s.items()}
        self.opa_instance = admission.instance_id(org)

    def k8s(
        self, calls: K8sCalls, label: str | None = None, deny_share: float = 0.0
    ) -> list[Batch]:
        """Audit events, the OPA decisions of covered writes, Falco alerts of ``exec`` sessions."""
        if len(calls) == 0:
            return []
        decisions = admission.decide(self.rng, self.org, calls, deny_share)
        out = [
            k8s.write(calls, self.rng, self.groups),
            opa.write(decisions, self.rng, self.opa_instance),
            runtime.shell_alerts(self.rng, self.org, calls),
        ]
        return [b if label is None else b.labelled(label) for b in out if len(b)]

    def aws(
        self,
        calls: AwsCalls,
        label: str | None = None,
        extra: Mapping[str, AwsPrincipal] | None = None,
    ) -> list[Batch]:
        """CloudTrail records; ``extra`` principals exist only in a scenario (a new key)."""
        if len(calls) == 0:
            return []
        principals = {**self.org.aws, **(extra or {})}
        batch = cloudtrail.write(calls, self.rng, principals)
        return [batch if label is None else batch.labelled(label)]
