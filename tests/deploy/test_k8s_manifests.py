"""The Kubernetes manifests, validated offline against the bundled API schemas."""

import copy
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

K8S_DIR = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
K8S_VERSION = "1.33.0"  # the oldest Kubernetes release we support
NOT_RESOURCES = {"kustomization.yaml"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}


def documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def all_documents() -> list[tuple[str, dict]]:
    return [
        (f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc)
        for path in sorted(K8S_DIR.glob("*.yaml"))
        if path.name not in NOT_RESOURCES
        for doc in documents(path)
    ]


def workloads() -> list[tuple[str, dict]]:
    return [(name, doc) for name, doc in all_documents() if doc["kind"] in WORKLOAD_KINDS]


def containers(doc: dict) -> list[dict]:
    return doc["spec"]["template"]["spec"]["containers"]


def find(kind: str, name: str) -> dict:
    return next(
        doc for _, doc in all_documents() if doc["kind"] == kind and doc["metadata"]["name"] == name
    )


@pytest.mark.parametrize(
    ("name", "doc"), all_documents(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_manifest_matches_the_kubernetes_schema_strictly(name, doc):
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_validator_rejects_an_unknown_field():
    doc = copy.deepcopy(find("Deployment", "spotdesk-web"))
    containers(doc)[0]["livenessprobe"] = {"httpGet": {"path": "/healthz", "port": 8000}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_kustomization_lists_every_manifest_and_nothing_else():
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in K8S_DIR.glob("*.yaml")} - NOT_RESOURCES - {"secret.example.yaml"}
    assert listed == on_disk


@pytest.mark.parametrize(
    ("name", "doc"), workloads(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_container_has_requests_and_limits(name, doc):
    for container in containers(doc):
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]), name
        assert {"cpu", "memory"} <= set(resources["limits"]), name


@pytest.mark.parametrize(
    ("name", "doc"),
    [(n, d) for n, d in workloads() if d["kind"] != "Job"],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_every_long_running_container_has_a_liveness_probe_and_runs_as_non_root(name, doc):
    pod = doc["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    for container in pod["containers"]:
        assert "livenessProbe" in container, name


def test_web_probes_liveness_and_readiness_separately():
    web = containers(find("Deployment", "spotdesk-web"))[0]
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_beat_is_a_single_replica_that_is_never_doubled_during_a_rollout():
    beat = find("Deployment", "spotdesk-beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    assert all(
        doc["spec"]["scaleTargetRef"]["name"] != "spotdesk-beat"
        for _, doc in all_documents()
        if doc["kind"] == "HorizontalPodAutoscaler"
    )


def test_streams_are_a_statefulset_sized_like_the_shard_count():
    streams = find("StatefulSet", "spotdesk-streams")
    config = find("ConfigMap", "spotdesk-config")
    assert streams["spec"]["replicas"] == int(config["data"]["STREAMS_SHARD_COUNT"])


def test_workers_scale_on_their_queue_length_and_web_on_cpu():
    hpas = {
        d["metadata"]["name"]: d
        for _, d in all_documents()
        if d["kind"] == "HorizontalPodAutoscaler"
    }
    assert hpas["spotdesk-web"]["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    external = hpas["spotdesk-worker-execution"]["spec"]["metrics"][0]["external"]
    assert external["metric"]["name"] == "spotdesk_celery_queue_length"
    assert external["metric"]["selector"]["matchLabels"] == {"queue": "execution"}
    rules = yaml.safe_load(
        find("ConfigMap", "prometheus-adapter-spotdesk-rules")["data"]["config.yaml"]
    )
    assert rules["externalRules"][0]["name"]["as"] == "spotdesk_celery_queue_length"
