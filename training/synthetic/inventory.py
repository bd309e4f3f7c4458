"""What runs where, over time: the names of pods, replica sets and other objects.

Deployments roll out every few days (daily in dev), and each rollout brings a
new replica-set hash and new pod names, as in a real cluster. Audit events,
policy reports and Falco alerts all take their object names from here, so the
same pod is named the same way by every source on a given day.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from training.synthetic.clock import DAY
from training.synthetic.org import Org
from training.synthetic.randomness import IntArray, hex_strings, pod_suffixes

REPLICAS = 3  # the most replicas an application runs (in production)
ENV_REPLICAS = {"prod": 3, "staging": 2, "dev": 1, "infra": 2}


class Inventory:
    """Object names per (namespace, app, day); days count from ``start`` (µs)."""

    def __init__(self, rng: np.random.Generator, org: Org, start: int, days: int) -> None:
        self.org = org
        self.start = start
        self.days = days + 2  # room for local days that spill over the ends
        n_ns = len(org.namespaces)
        self.apps_max = max(len(ns.apps) for ns in org.namespaces)
        shape = (n_ns, self.apps_max)
        period = rng.choice(np.array([1, 2, 3, 5]), size=shape)
        dev = np.array([ns.env == "dev" for ns in org.namespaces])
        period[dev] = 1
        generation = np.arange(self.days)[None, None, :] // period[:, :, None]
        hashes = np.array(hex_strings(rng, n_ns * self.apps_max * self.days, 10)).reshape(
            n_ns, self.apps_max, self.days
        )
        rs_hash = np.take_along_axis(hashes, generation, axis=2)
        suffix = np.array(pod_suffixes(rng, hashes.size * REPLICAS, 5)).reshape(
            n_ns, self.apps_max, self.days, REPLICAS
        )
        pod_suffix = np.take_along_axis(suffix, generation[..., None], axis=2)
        app_names = np.array(
            [[ns.apps[a % len(ns.apps)] for a in range(self.apps_max)] for ns in org.namespaces]
        )
        self.app_names = app_names
        self.replica_sets: npt.NDArray[np.str_] = np.strings.add(
            np.strings.add(app_names[:, :, None], "-"), rs_hash
        )
        self.pods: npt.NDArray[np.str_] = np.strings.add(
            np.strings.add(self.replica_sets[..., None], "-"), pod_suffix
        )
        self.slice_suffix = np.array(pod_suffixes(rng, n_ns * self.apps_max, 5)).reshape(shape)
        self.app_counts = np.array([len(ns.apps) for ns in org.namespaces])
        self.replicas = np.array([ENV_REPLICAS[ns.env] for ns in org.namespaces])
        self.uid_prefix = np.array(hex_strings(rng, n_ns * self.apps_max, 8)).reshape(shape)

    def day(self, times: IntArray) -> IntArray:
        days: IntArray = np.clip((times - self.start) // DAY, 0, self.days - 1)
        return days

    def pick_apps(self, rng: np.random.Generator, ns: IntArray) -> IntArray:
        """A random application of each namespace in ``ns``."""
        apps: IntArray = (rng.random(len(ns)) * self.app_counts[ns]).astype(np.int64)
        return apps

    def pod(self, ns: IntArray, app: IntArray, times: IntArray, replica: IntArray) -> list[str]:
        return self.pods[ns, app, self.day(times), replica % self.replicas[ns]].tolist()  # type: ignore[no-any-return]

    def replica_set(self, ns: IntArray, app: IntArray, times: IntArray) -> list[str]:
        return self.replica_sets[ns, app, self.day(times)].tolist()  # type: ignore[no-any-return]

    def app(self, ns: IntArray, app: IntArray) -> list[str]:
        return self.app_names[ns, app].tolist()  # type: ignore[no-any-return]

    def pod_uid(self, ns: int, app: int, day: int, replica: int) -> str:
        """A stable uid for one pod (the same pod keeps its uid in every report)."""
        return (
            f"{self.uid_prefix[ns, app]}-{day:04x}-4{replica:03x}-8000-{ns:04x}{app:04x}{day:04x}"
        )

    def names(
        self, rng: np.random.Generator, kind: str, ns: IntArray, times: IntArray
    ) -> list[str | None]:
        """Object names of one kind for a batch of calls (``=literal`` names one object)."""
        n = len(ns)
        if kind == "":
            return [None] * n
        if kind.startswith("="):
            return [kind[1:]] * n
        app = self.pick_apps(rng, ns)
        if kind == "pod":
            return list(self.pod(ns, app, times, rng.integers(0, REPLICAS, n)))
        if kind == "rs":
            return list(self.replica_set(ns, app, times))
        if kind == "eps":
            return list(
                np.strings.add(
                    np.strings.add(self.app_names[ns, app], "-"), self.slice_suffix[ns, app]
                ).tolist()
            )
        suffix = {
            "app": "",
            "config": "-config",
            "tls": "-tls",
            "secret": "-db-credentials",
            "leader": "-leader",
        }.get(kind)
        if suffix is None:
            raise ValueError(f"unknown object kind {kind!r}")
        return list(np.strings.add(self.app_names[ns, app], suffix).tolist())
