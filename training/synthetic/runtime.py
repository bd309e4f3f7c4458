"""Falco runtime alerts: what the syscall rules say about the containers.

Normal alerts have causes elsewhere in the data: an engineer's ``kubectl
exec`` into a dev pod raises *Terminal shell in container*; a CI build
installing packages and calling the API server raises *Launch Package
Management Process* and *Contact K8S API Server*; the security team's scanner
trips *Read sensitive file untrusted* on every sweep. :func:`alert` builds any
rule's alert for a pod, for the scenarios as well.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from training.synthetic.activity import periodic
from training.synthetic.batch import Batch
from training.synthetic.clock import HOUR, US, Period
from training.synthetic.formats import falco
from training.synthetic.formats.k8s import K8sCalls
from training.synthetic.org import Org
from training.synthetic.randomness import IntArray

RULES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "Terminal shell in container": (
        "Notice",
        "A shell was spawned in a container with an attached terminal",
        ("T1059", "container", "maturity_stable", "mitre_execution", "shell"),
    ),
    "Read sensitive file untrusted": (
        "Warning",
        "Sensitive file opened for reading by non-trusted program",
        ("T1555", "container", "filesystem", "host", "maturity_stable", "mitre_credential_access"),
    ),
    "Launch Package Management Process in Container": (
        "Error",
        "Package management process launched in container",
        (
            "T1505",
            "container",
            "maturity_incubating",
            "mitre_persistence",
            "process",
            "software_mgmt",
        ),
    ),
    "Contact K8S API Server From Container": (
        "Notice",
        "Unexpected connection to K8s API Server from container",
        ("T1565", "container", "k8s", "maturity_stable", "mitre_discovery", "network"),
    ),
    "Launch Privileged Container": (
        "Info",
        "Privileged container started",
        ("T1610", "cis", "container", "maturity_stable", "mitre_execution"),
    ),
    "Launch Suspicious Network Tool in Container": (
        "Notice",
        "Network tool launched in container",
        ("T1595", "container", "maturity_incubating", "mitre_discovery", "network", "process"),
    ),
}


EVENT_TYPES = {
    "Read sensitive file untrusted": "openat",
    "Contact K8S API Server From Container": "connect",
}


def alert(
    org: Org,
    rule: str,
    namespace: str,
    pod: str,
    container: str,
    command: str,
    parent: str = "runc",
    extra: dict[str, Any] | None = None,
) -> falco.Alert:
    """One alert of ``rule`` for a process running ``command`` in a pod's container."""
    priority, description, tags = RULES[rule]
    process = command.split(" ", 1)[0]
    node = org.nodes[zlib.crc32(pod.encode()) % len(org.nodes)]
    container_id = f"{zlib.crc32(('c/' + pod).encode()):08x}{zlib.crc32(pod.encode()) % 0xFFFF:04x}"
    team = org.owner_name(namespace)
    repository = f"registry.corp.example/{team}/{container}"
    tty = 34816 if rule in ("Terminal shell in container", "Read sensitive file untrusted") else 0
    fields: dict[str, Any] = {
        "container.id": container_id,
        "container.image.repository": repository,
        "container.image.tag": "v1.14.2",
        "container.name": container,
        "evt.type": EVENT_TYPES.get(rule, "execve"),
        "k8s.ns.name": namespace,
        "k8s.pod.name": pod,
        "proc.cmdline": command,
        "proc.exepath": f"/bin/{process}",
        "proc.name": process,
        "proc.pname": parent,
        "proc.tty": tty,
        "user.loginuid": -1,
        "user.name": "root",
        "user.uid": 0,
        **(extra or {}),
    }
    extras = " ".join(f"{k.replace('.', '_')}={v}" for k, v in (extra or {}).items())
    text = (
        f"{description} ({extras + ' ' if extras else ''}evt_type={fields['evt.type']} user=root "
        f"user_uid=0 user_loginuid=-1 process={process} proc_exepath=/bin/{process} "
        f"parent={parent} command={command} terminal={tty} container_id={container_id} "
        f"container_image={repository} container_image_tag=v1.14.2 container_name={container} "
        f"k8s_ns={namespace} k8s_pod_name={pod})"
    )
    return falco.Alert(rule, priority, text, fields, tags, node)


def shell_alerts(rng: np.random.Generator, org: Org, calls: K8sCalls) -> Batch:
    """One *Terminal shell* alert per successful ``pods/exec`` in ``calls``."""
    where = [
        i
        for i, (r, c) in enumerate(zip(calls.resource, calls.code.tolist(), strict=True))
        if r == "pods/exec" and c == 101
    ]
    alerts = []
    for i in where:
        pod = calls.name[i] or "pod"
        container = pod.rsplit("-", 2)[0]
        shell = "bash" if zlib.crc32(pod.encode()) % 3 else "sh"
        alerts.append(
            alert(
                org, "Terminal shell in container", calls.namespace[i] or "", pod, container, shell
            )
        )
    times = (
        calls.time[np.array(where, dtype=np.int64)] + 400_000 if where else np.zeros(0, np.int64)
    )
    return falco.write(alerts, times.astype(np.int64), rng)


def build_alerts(rng: np.random.Generator, org: Org, deploy_times: IntArray) -> Batch:
    """CI build pods installing packages and talking to the API server during deploys."""
    alerts, times = [], []
    for at in deploy_times.tolist():
        job = zlib.crc32(str(at).encode()) % 10**8
        pod = f"runner-{job:08d}-project-{at % 9000 + 1000}-concurrent-0"
        if rng.random() < 0.5:
            alerts.append(
                alert(
                    org,
                    "Launch Package Management Process in Container",
                    "ci",
                    pod,
                    "build",
                    "apt-get install -y curl jq",
                    "sh",
                )
            )
            times.append(at - 150 * US)
        alerts.append(
            alert(
                org,
                "Contact K8S API Server From Container",
                "ci",
                pod,
                "build",
                "kubectl rollout status deployment",
                "sh",
                {"fd.name": "10.42.70.12:51234->172.20.0.1:443"},
            )
        )
        times.append(at + 2 * US)
    return falco.write(alerts, np.array(times, dtype=np.int64), rng)


def scanner_alerts(rng: np.random.Generator, org: Org, period: Period) -> Batch:
    """The vulnerability scanner reading host credentials files on every sweep."""
    _, times = periodic(
        rng, np.array([6 * HOUR], dtype=np.int64), period.start, period.end, jitter=0.05
    )
    namespace = org.ns(org.team_of("security"), "prod")
    alerts = [
        alert(
            org,
            "Read sensitive file untrusted",
            namespace,
            f"scanner-node-agent-{k % 12:02d}",
            "scanner",
            "trivy-node-collector --scan /host",
            "containerd-shim",
            {"fd.name": "/host/etc/shadow"},
        )
        for k in range(len(times))
    ]
    return falco.write(alerts, times, rng)
