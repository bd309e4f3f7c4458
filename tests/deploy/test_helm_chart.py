"""The Helm chart, rendered by a real ``helm`` and checked offline.

Every manifest the chart renders (default values, the production values of
``deploy/gitops``, and every optional part switched on) is validated against the
Kubernetes API schemas of the oldest and the newest release the chart supports
(``kubernetes-validate``, strict: no unknown fields). Custom resources (the
Prometheus Operator's ServiceMonitor, KEDA's ScaledObject) are validated against
their CRDs' own schemas (``tests/fixtures/reference/crds``), which allow unknown
fields, so their fields are also asserted here. Then the security and operations
settings every pod must carry are asserted on the rendered output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "auditlens"
GITOPS = ROOT / "deploy" / "gitops"
PRODUCTION = GITOPS / "environments" / "production" / "values.yaml"
KUBERNETES_VERSIONS = ("1.27.0", "1.37.0")  # Chart.yaml: kubeVersion >=1.27
# A helm built by `go install` assumes Kubernetes 1.20 (release builds set it at link time).
RENDER = ("--kube-version", KUBERNETES_VERSIONS[-1])
CRD_SCHEMAS = ROOT / "tests" / "fixtures" / "reference" / "crds"
CUSTOM_KINDS = {
    "ServiceMonitor": CRD_SCHEMAS / "servicemonitor-v1.schema.json",
    "ScaledObject": CRD_SCHEMAS / "scaledobject-v1alpha1.schema.json",
}
WORKLOADS = {"Deployment"}
EVERYTHING_ON = (
    "--set",
    "serviceMonitor.enabled=true",
    "--set",
    "scorer.autoscaling.enabled=true",
    "--set",
    "mlflow.server.enabled=true",
)

Manifest = dict[str, Any]


@pytest.fixture(scope="module")
def helm() -> str:
    found = os.environ.get("HELM") or shutil.which("helm")
    if not found or not Path(found).exists():
        pytest.fail("helm is not installed: `make helm` builds it (make test does)")
    return found


def render(helm: str, *args: str) -> list[Manifest]:
    done = subprocess.run(
        [helm, "template", "auditlens", str(CHART), "--namespace", "auditlens", *RENDER, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def refused(helm: str, *args: str) -> str:
    done = subprocess.run(
        [helm, "template", "auditlens", str(CHART), *RENDER, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0, "helm rendered values it should refuse"
    return done.stderr


def pods(manifests: Iterable[Manifest]) -> list[tuple[str, Manifest]]:
    return [
        (m["metadata"]["name"], m["spec"]["template"]["spec"])
        for m in manifests
        if m["kind"] in WORKLOADS
    ]


def of_kind(manifests: Iterable[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def deployment(manifests: Iterable[Manifest], component: str) -> Manifest:
    (found,) = (
        m
        for m in of_kind(manifests, "Deployment")
        if m["metadata"]["name"].endswith(f"-{component}")
    )
    return found


@pytest.fixture(scope="module")
def renders(helm: str) -> dict[str, list[Manifest]]:
    return {
        "default": render(helm),
        "production": render(helm, "--values", str(PRODUCTION)),
        "everything on": render(helm, *EVERYTHING_ON),
    }


def test_helm_lint_passes_for_the_default_and_the_production_values(helm: str) -> None:
    for extra in ((), ("--values", str(PRODUCTION))):
        done = subprocess.run(
            [helm, "lint", "--strict", str(CHART), *extra],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_valid_against_the_kubernetes_schemas(
    renders: dict[str, list[Manifest]], version: str
) -> None:
    for name, manifests in renders.items():
        for manifest in manifests:
            if manifest["kind"] in CUSTOM_KINDS:
                continue
            try:
                kubernetes_validate.validate(manifest, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{name}: {manifest['kind']} {manifest['metadata']['name']}: {exc}")


def test_custom_resources_are_valid_against_their_crds(
    renders: dict[str, list[Manifest]],
) -> None:
    found = set()
    for manifest in renders["everything on"]:
        schema_file = CUSTOM_KINDS.get(manifest["kind"])
        if schema_file is None:
            continue
        found.add(manifest["kind"])
        validator = jsonschema.Draft7Validator(json.loads(schema_file.read_text()))
        problems = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(manifest)
        ]
        assert problems == [], manifest["kind"]
    assert found == set(CUSTOM_KINDS)
    # Not vacuous: the CRD schemas refuse what the API server would.
    monitor = of_kind(renders["everything on"], "ServiceMonitor")[0]
    broken = {**monitor, "spec": {**monitor["spec"], "endpoints": [{"interval": "30 s"}]}}
    schema = json.loads(CUSTOM_KINDS["ServiceMonitor"].read_text())
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))


def test_the_components_are_all_there(renders: dict[str, list[Manifest]]) -> None:
    names = {m["metadata"]["name"] for m in of_kind(renders["default"], "Deployment")}
    assert names == {
        "auditlens-scorer",
        "auditlens-api",
        "auditlens-dispatcher",
        "auditlens-optimizer",
    }
    args = {
        m["metadata"]["name"]: m["spec"]["template"]["spec"]["containers"][0]["args"]
        for m in of_kind(renders["default"], "Deployment")
    }
    assert args["auditlens-scorer"] == ["serve", "--role", "scorer"]
    assert args["auditlens-api"] == ["serve", "--role", "api"]
    assert args["auditlens-dispatcher"] == ["serve", "--role", "dispatcher"]
    assert args["auditlens-optimizer"] == ["serve", "--role", "optimizer"]
    (config,) = of_kind(renders["default"], "ConfigMap")
    assert config["data"]["AUDITLENS_WEBHOOK_DISPATCHER"] == "false"
    assert {s["metadata"]["name"] for s in of_kind(renders["default"], "Service")} >= {
        "auditlens-api"
    }
    everything = {m["metadata"]["name"] for m in of_kind(renders["everything on"], "Deployment")}
    assert "auditlens-mlflow" in everything


def test_scaled_scorers_keep_their_state_in_the_store_not_on_a_shared_disk(
    renders: dict[str, list[Manifest]],
) -> None:
    for name in ("production", "everything on"):
        scorer = deployment(renders[name], "scorer")
        pod = scorer["spec"]["template"]["spec"]
        env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
        assert env["AUDITLENS_STATE_BACKEND"] == "store", name
        assert not [v for v in pod["volumes"] if "persistentVolumeClaim" in v], name


def test_production_scorers_archive_to_object_storage(
    renders: dict[str, list[Manifest]],
) -> None:
    [default] = of_kind(renders["default"], "ConfigMap")
    [production] = of_kind(renders["production"], "ConfigMap")
    assert "AUDITLENS_ARCHIVE_URL" not in default["data"], "the default: the data volume"
    assert production["data"]["AUDITLENS_ARCHIVE_URL"].startswith("s3://")


@pytest.mark.parametrize("values", ["default", "production", "everything on"])
def test_every_pod_runs_unprivileged_on_a_read_only_root(
    renders: dict[str, list[Manifest]], values: str
) -> None:
    for name, spec in pods(renders[values]):
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["runAsNonRoot"] is True, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) == {"cpu", "memory"}, name
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts, f"{name}: nothing writable for temporary files"
    for account in of_kind(renders[values], "ServiceAccount"):
        assert account["automountServiceAccountToken"] is False


@pytest.mark.parametrize("values", ["default", "production"])
def test_every_auditlens_pod_has_startup_liveness_and_readiness_probes(
    renders: dict[str, list[Manifest]], values: str
) -> None:
    for name, spec in pods(renders[values]):
        (container,) = spec["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        if name.endswith("-mlflow"):
            expected = {"startupProbe": "/health", "livenessProbe": "/health"}
        else:
            expected = {
                "startupProbe": "/livez",
                "livenessProbe": "/livez",
                "readinessProbe": "/readyz",
            }
        for probe, path in expected.items():
            assert container[probe]["httpGet"]["path"] == path, (name, probe)
            assert container[probe]["httpGet"]["port"] in ports, (name, probe)
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        if name.endswith(("-scorer", "-dispatcher", "-optimizer")):
            # These roles serve no API: the probes need the health port set.
            assert env["AUDITLENS_HEALTH_PORT"] == str(ports["health"]), name


def test_each_component_has_a_disruption_budget(renders: dict[str, list[Manifest]]) -> None:
    budgets = {
        b["metadata"]["name"]: b["spec"] for b in of_kind(renders["default"], "PodDisruptionBudget")
    }
    assert set(budgets) == {
        "auditlens-scorer",
        "auditlens-api",
        "auditlens-dispatcher",
        "auditlens-optimizer",
    }
    assert budgets["auditlens-api"]["minAvailable"] == 1
    for spec in budgets.values():
        assert spec["selector"]["matchLabels"]["app.kubernetes.io/component"]


def test_the_network_policy_admits_only_the_api_port_and_the_listed_dependencies(
    renders: dict[str, list[Manifest]],
) -> None:
    (policy,) = of_kind(renders["default"], "NetworkPolicy")
    spec = policy["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert [r["ports"] for r in spec["ingress"]] == [[{"port": 8080, "protocol": "TCP"}]]
    egress_ports = sorted(p["port"] for rule in spec["egress"] for p in rule["ports"])
    assert egress_ports == [53, 53, 443, 443, 5000, 5432, 9092]

    (production,) = of_kind(renders["production"], "NetworkPolicy")
    api_rule, metrics_rule = production["spec"]["ingress"][:2]
    assert api_rule["from"], "production names who may reach the API"
    assert {p["port"] for p in metrics_rule["ports"]} == {8081}
    kafka = next(r for r in production["spec"]["egress"] if r["ports"][0]["port"] == 9092)
    assert kafka["to"], "production narrows the Kafka path"


def test_optional_parts_render_when_switched_on(renders: dict[str, list[Manifest]]) -> None:
    monitors = of_kind(renders["everything on"], "ServiceMonitor")
    assert {m["spec"]["endpoints"][0]["port"] for m in monitors} == {"http", "health"}
    assert all(m["apiVersion"] == "monitoring.coreos.com/v1" for m in monitors)
    (scaled,) = of_kind(renders["everything on"], "ScaledObject")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert scaled["spec"]["scaleTargetRef"]["name"] == "auditlens-scorer"
    topics = [t["metadata"]["topic"] for t in scaled["spec"]["triggers"]]
    assert topics == ["audit.k8s", "audit.cloudtrail", "policy.results"]
    assert {t["type"] for t in scaled["spec"]["triggers"]} == {"kafka"}
    scorer = next(
        m
        for m in of_kind(renders["everything on"], "Deployment")
        if m["metadata"]["name"].endswith("-scorer")
    )
    assert "replicas" not in scorer["spec"], "KEDA owns the replica count"
    assert not of_kind(renders["default"], "ServiceMonitor")
    assert not of_kind(renders["default"], "ScaledObject")
    (config,) = of_kind(renders["everything on"], "ConfigMap")
    assert config["data"]["MLFLOW_TRACKING_URI"] == "http://auditlens-mlflow:5000"


def test_an_existing_secret_replaces_the_charts_own(helm: str) -> None:
    manifests = render(helm, "--set", "secrets.existingSecret=mine")
    assert not of_kind(manifests, "Secret")
    scorer = next(
        m for m in of_kind(manifests, "Deployment") if m["metadata"]["name"].endswith("-scorer")
    )
    refs = scorer["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert {"secretRef": {"name": "mine"}} in refs


def test_the_chart_refuses_what_would_break(helm: str) -> None:
    assert "sharedStateClaim" in refused(
        helm, "--set", "scorer.replicas=2", "--set", "scorer.stateBackend=directory"
    )
    assert "at '/scorer/stateBackend'" in refused(helm, "--set", "scorer.stateBackend=disk")
    assert "values don't meet the specifications of the schema" in refused(
        helm, "--set", "scorer.replicas=two"
    )
    assert "additional properties 'replica' not allowed" in refused(
        helm, "--set", "api.replica=2"
    ).replace('"', "'")
    assert "at '/image/digest'" in refused(helm, "--set", "image.digest=latest")


def test_the_argo_cd_applications_point_at_the_chart_and_their_values() -> None:
    applications = sorted((GITOPS / "applications").glob("*.yaml"))
    assert [a.stem for a in applications] == ["auditlens-production", "auditlens-staging"]
    for path in applications:
        app = yaml.safe_load(path.read_text())
        assert app["kind"] == "Application"
        assert app["apiVersion"] == "argoproj.io/v1alpha1"
        source = app["spec"]["source"]
        chart = ROOT / source["path"]
        assert chart == CHART
        for values in source["helm"]["valueFiles"]:
            assert (chart / values).resolve().is_file(), values
        assert app["spec"]["syncPolicy"]["automated"]["selfHeal"] is True
