"""``auditlens generate``: a synthetic organisation with labelled attacks, in real source formats.

Normal behaviour has structure, not uniform noise: about three hundred people
in twelve teams, each team owning its namespaces and working office hours in
its own time zone with a weekly rhythm; each person with a personal mix of
Kubernetes and AWS actions, a stable pair of addresses and stable clients;
controllers, operators, integrations and pipelines acting periodically; policy
engines reporting in the background. Legitimate rare episodes (a new hire, a
release-day burst, a night on call, a role change, a root sign-in to check the
bill) keep "rare" from meaning "malicious"; labelled attack scenarios are
injected into the test period, and real Stratus Red Team detonations can be
spliced in.

Everything is drawn from named streams of one seed, so a seed gives
byte-identical files. A :class:`~training.synthetic.profile.GeneratorProfile`
(:data:`PROFILES`: ``default``, ``small-startup``, ``enterprise``,
``follow-the-sun``) shifts the organisation's size, naming, hours, tools and
machine cadence, so detection can be measured on an environment it was not
tuned to; ``default`` is the organisation described above (:mod:`.profile`).

Modules: :mod:`.org` (who exists), :mod:`.catalogue` (what can be done),
:mod:`.clients` (with what), :mod:`.activity` (when), the behaviour modules
(:mod:`.k8s_humans`, :mod:`.k8s_machines`, :mod:`.aws_humans`,
:mod:`.aws_machines`, :mod:`.admission`, :mod:`.scans`, :mod:`.runtime`),
:mod:`.benign`, :mod:`.attacks`, :mod:`.stratus`, the writers in
:mod:`.formats`, :mod:`.labels` and the orchestration in :mod:`.build`.
"""

from training.synthetic.attacks import SCENARIOS
from training.synthetic.build import generate
from training.synthetic.profile import PROFILES, GeneratorProfile

__all__ = ["PROFILES", "SCENARIOS", "GeneratorProfile", "generate"]
