"""Every alert the code can raise and every Prometheus rule has a runbook entry in
docs/operations.md (a heading "### `name`"), so no alert ships without one."""

import ast
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = ROOT / "docs" / "operations.md"
HEADING = re.compile(r"^### `([^`]+)`", re.MULTILINE)


def _module_constants(tree: ast.Module) -> dict[str, str]:
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    found[target.id] = node.value.value
    return found


def _is_raise_alert(func) -> bool:
    if isinstance(func, ast.Name | ast.Attribute):
        return getattr(func, "id", getattr(func, "attr", None)) == "raise_alert"
    # sync_to_async(raise_alert)(...)
    return isinstance(func, ast.Call) and any(_is_raise_alert(arg) for arg in func.args)


def _names(arg, constants: dict[str, str], where: str) -> list[str]:
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return [arg.value]
    if isinstance(arg, ast.Name) and arg.id in constants:
        return [constants[arg.id]]
    if isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant):
        return [f"{arg.values[0].value}*"]  # a family: one entry covers each kind
    if isinstance(arg, ast.IfExp):
        return _names(arg.body, constants, where) + _names(arg.orelse, constants, where)
    raise AssertionError(f"{where}: cannot tell the event name of this raise_alert call")


def _event_names(node: ast.Call, constants: dict[str, str], where: str) -> list[str]:
    arg = next((k.value for k in node.keywords if k.arg == "event"), None)
    if arg is None:
        assert len(node.args) >= 2, f"{where}: raise_alert without an event"
        arg = node.args[1]
    return _names(arg, constants, where)


def alert_events() -> dict[str, str]:
    events = {}
    for path in [*ROOT.glob("apps/**/*.py"), *ROOT.glob("celery_worker/**/*.py")]:
        source = path.read_text(encoding="utf-8")
        if "raise_alert" not in source:
            continue
        tree = ast.parse(source)
        constants = _module_constants(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _is_raise_alert(node.func):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                for name in _event_names(node, constants, where):
                    events[name] = where
    return events


def prometheus_rules() -> set[str]:
    config = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    return {
        rule["alert"] for group in config["groups"] for rule in group["rules"] if "alert" in rule
    }


def runbook_entries() -> set[str]:
    return set(HEADING.findall(RUNBOOK.read_text(encoding="utf-8")))


def test_the_scan_finds_the_alerts_it_must():
    events = alert_events()
    assert {"kill_switch_engaged", "worker_stale", "trading_fill", "streams.slow_consumer"} <= set(
        events
    )
    assert "reconciliation_*" in events
    assert "anomaly_*" in events
    assert len(prometheus_rules()) > 20


def test_every_alert_event_has_a_runbook_entry():
    missing = {
        name: where for name, where in alert_events().items() if name not in runbook_entries()
    }
    assert not missing, f"add a '### `name`' runbook entry to docs/operations.md for {missing}"


def test_every_prometheus_rule_has_a_runbook_entry():
    missing = prometheus_rules() - runbook_entries()
    assert not missing, f"add a '### `name`' runbook entry to docs/operations.md for {missing}"
