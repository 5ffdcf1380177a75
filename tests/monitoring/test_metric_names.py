"""Dashboards, alert rules and the autoscaler rules reference only metrics the code
exports: every `spotdesk_*`, `django_*`, `process_*` and `python_*` name in them must
be produced by the process registry (the one registry module, the scrape-time
collectors, django-prometheus and the default process collectors)."""

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client.registry import REGISTRY

import apps.monitoring.metrics  # noqa: F401  (registers every spotdesk_* metric)

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
ADAPTER = ROOT / "deploy" / "k8s" / "prometheus-adapter.yaml"
NAME = re.compile(r"\b((?:spotdesk|django|process|python)_[a-zA-Z0-9_]+)")
# Series Prometheus makes itself for every target.
SYNTHETIC = re.compile(r"\b(up|scrape_duration_seconds|scrape_samples_scraped)\{")
SUFFIXES = ("", "_total", "_count", "_sum", "_bucket", "_created", "_info")


def exported_names() -> set[str]:
    names = set()
    for family in REGISTRY.collect():
        names.update(family.name + suffix for suffix in SUFFIXES)
        names.update(s.name for s in family.samples)
    return names


def dashboard_expressions() -> list[tuple[str, str]]:
    found = []
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                found.append((f"{path.name}: {panel['title']}", target["expr"]))
    return found


def rule_expressions() -> list[tuple[str, str]]:
    rules = yaml.safe_load(RULES.read_text())
    adapter = yaml.safe_load(
        next(d for d in yaml.safe_load_all(ADAPTER.read_text()) if d)["data"]["config.yaml"]
    )
    found = [
        (f"alerts.yml: {rule['alert']}", rule["expr"])
        for group in rules["groups"]
        for rule in group["rules"]
    ]
    found += [("prometheus-adapter", r["metricsQuery"]) for r in adapter["externalRules"]]
    return found


@pytest.fixture(scope="module")
def exported(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        Client().get("/healthz")  # django-prometheus creates its metrics with the first request
    return exported_names()


def test_there_are_four_dashboards_and_rules():
    assert {p.name for p in DASHBOARDS} == {
        "fleet-overview.json",
        "exchange-connectivity.json",
        "per-account.json",
        "workers.json",
    }
    assert len(rule_expressions()) > 10


@pytest.mark.parametrize(("where", "expr"), dashboard_expressions() + rule_expressions())
def test_every_referenced_metric_is_exported(where, expr, exported):
    referenced = set(NAME.findall(expr))
    assert referenced or SYNTHETIC.search(expr), f"{where}: no metric in {expr!r}"
    unknown = sorted(referenced - exported)
    assert unknown == [], f"{where} references metrics nobody exports: {unknown}"


def test_the_check_catches_a_misspelt_name(exported):
    assert "spotdesk_celery_queue_lenght" not in exported
    assert "spotdesk_celery_queue_length" in exported
    assert "django_http_requests_total_by_view_transport_method_total" in exported


def test_every_dashboard_uses_the_provisioned_prometheus():
    datasources = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/datasources/spotdesk.yml").read_text()
    )
    uids = {d["uid"] for d in datasources["datasources"]}
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            assert panel["datasource"]["uid"] in uids, (path.name, panel["title"])
