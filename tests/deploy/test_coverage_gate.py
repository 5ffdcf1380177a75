"""The coverage gate `make test` ends with (deploy/local/coverage_gate.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import coverage
import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_gate():
    spec = importlib.util.spec_from_file_location(
        "coverage_gate", ROOT / "deploy" / "local" / "coverage_gate.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["coverage_gate"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


gate = load_gate()
FileCoverage = gate.FileCoverage


def test_packages_and_strict_groups_are_tallied_by_path():
    files = [
        FileCoverage("apps/risk/engine/rules.py", 100, 2),
        FileCoverage("apps/risk/engine/exits.py", 100, 10),
        FileCoverage("apps/risk/models.py", 50, 50),
        FileCoverage("apps/exchange/filters.py", 40, 0),
        FileCoverage("apps/exchange/streams/user_data.py", 60, 30),
        FileCoverage("bench/run.py", 10, 10),  # outside apps/: not counted
    ]
    groups = {"risk engine": ("apps/risk/engine/",), "filters": ("apps/exchange/filters.py",)}
    packages, strict, total = gate.tally(files, strict_groups=groups)
    assert [(p.name, p.statements, p.missed) for p in packages] == [
        ("apps/exchange/", 100, 30),
        ("apps/risk/", 250, 62),
    ]
    assert (total.statements, total.missed) == (350, 92)
    assert round(total.percent, 2) == 73.71
    assert not total.passed
    risk, filters = strict
    assert (risk.percent, risk.passed) == (94.0, False)
    assert (filters.percent, filters.passed) == (100.0, True)
    assert [f.path for f in risk.worst_files()] == [
        "apps/risk/engine/exits.py",
        "apps/risk/engine/rules.py",
    ]
    # A module is matched exactly, a package by prefix.
    assert gate.matches("apps/exchange/filters.py", ("apps/exchange/filters.py",))
    assert not gate.matches("apps/exchange/filters_old.py", ("apps/exchange/filters.py",))


def test_thresholds_are_inclusive_and_an_empty_group_passes():
    exact = gate.Tally("x", 95.0, [FileCoverage("apps/a.py", 100, 5)])
    assert exact.passed
    below = gate.Tally("x", 95.0, [FileCoverage("apps/a.py", 1000, 51)])
    assert not below.passed
    assert gate.Tally("empty", 95.0).percent == 100.0


def test_the_report_names_the_files_that_drag_a_failing_package_down():
    files = [
        FileCoverage("apps/risk/engine/rules.py", 100, 40),
        FileCoverage("apps/risk/engine/money.py", 100, 0),
    ]
    text = gate.render(*gate.tally(files, strict_groups={"risk engine": ("apps/risk/engine/",)}))
    assert "risk engine is below 95%; the files that cost it most:" in text
    assert "apps/risk/engine/rules.py" in text.split("cost it most:")[-1]
    assert "apps/risk/engine/money.py" not in text.split("cost it most:")[-1]
    assert "FAIL" in text


def test_the_gate_reads_real_coverage_data(tmp_path, capsys):
    """Measure a little of the risk engine for real and let the gate judge it: every
    file under apps/ counts, so this tiny run fails the gate and says where."""
    data_file = tmp_path / ".coverage"
    cov = coverage.Coverage(
        data_file=str(data_file),
        data_suffix=False,
        config_file=False,
        source=[str(ROOT / "apps" / "risk" / "engine")],
    )
    cov.start()
    from decimal import Decimal

    from apps.risk.engine.money import floor_to_step

    floor_to_step(Decimal("1.25"), Decimal("0.1"))
    cov.stop()
    cov.save()

    measured = {f.path: f for f in gate.measure(data_file)}
    money = measured["apps/risk/engine/money.py"]
    assert 0 < money.missed < money.statements
    assert "apps/risk/engine/money.py" in measured
    assert not any("/migrations/" in path for path in measured)
    assert measured["apps/risk/models.py"].missed == measured["apps/risk/models.py"].statements

    assert gate.main(["--data-file", str(data_file)]) == 1
    out = capsys.readouterr().out
    assert "Coverage gate FAILED: apps/" in out
    assert "risk engine" in out


def test_missing_data_is_a_clear_error(tmp_path, capsys):
    assert gate.main(["--data-file", str(tmp_path / "none")]) == 2
    assert "Fix: run the suite with --cov." in capsys.readouterr().out


@pytest.mark.parametrize("prefix", [p for g in gate.STRICT_GROUPS.values() for p in g])
def test_every_strict_path_exists(prefix):
    assert (ROOT / prefix).exists(), f"{prefix} moved: update STRICT_GROUPS"
