"""bench/compare.py: a run's ratios against the stored baseline, as `make bench` uses it."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "compare.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_compare", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defined
    spec.loader.exec_module(module)
    return module


compare = _load()
Figure = compare.Figure


def _verdicts(baseline, results):
    rows = compare.compare(baseline, results)
    return {row.name: row.verdict for row in rows}


@pytest.mark.parametrize(
    ("better", "baseline", "now", "verdict"),
    [
        # higher is better: falling by more than 20% is the regression
        ("higher", 2.0, 1.55, "REGRESSION"),
        ("higher", 2.0, 1.61, "ok"),
        ("higher", 2.0, 2.39, "ok"),
        ("higher", 2.0, 2.45, "improved"),
        # lower is better: rising by more than 20% is the regression
        ("lower", 2.0, 2.45, "REGRESSION"),
        ("lower", 2.0, 2.39, "ok"),
        ("lower", 2.0, 1.61, "ok"),
        ("lower", 2.0, 1.55, "improved"),
    ],
)
def test_a_move_beyond_the_tolerance_is_judged_in_its_own_direction(better, baseline, now, verdict):
    assert _verdicts({"x": Figure(baseline, better)}, {"x": Figure(now, better)}) == {"x": verdict}


def test_the_change_is_relative_to_the_baseline():
    (row,) = compare.compare({"x": Figure(4.0, "higher")}, {"x": Figure(3.0, "higher")})
    assert row.baseline == 4.0
    assert row.now == 3.0
    assert row.change == pytest.approx(-0.25)


def test_new_and_missing_names_are_reported_without_failing():
    rows = compare.compare(
        {"old": Figure(1.0, "higher"), "kept": Figure(1.0, "higher")},
        {"kept": Figure(1.0, "higher"), "fresh": Figure(3.0, "lower")},
    )
    assert {row.name: row.verdict for row in rows} == {
        "kept": "ok",
        "fresh": "new",
        "old": "missing",
    }
    assert not compare.has_regression(rows)


def test_a_changed_direction_starts_a_new_baseline_rather_than_a_false_verdict():
    assert _verdicts({"x": Figure(1.0, "higher")}, {"x": Figure(5.0, "lower")}) == {"x": "new"}


def test_one_regression_among_many_fails_the_run():
    rows = compare.compare(
        {"a": Figure(1.0, "higher"), "b": Figure(1.0, "lower")},
        {"a": Figure(1.5, "higher"), "b": Figure(1.3, "lower")},
    )
    assert {row.name: row.verdict for row in rows} == {"a": "improved", "b": "REGRESSION"}
    assert compare.has_regression(rows)
    assert "1 regression(s)" in compare.format_table(rows)


def test_a_ratio_reported_several_times_keeps_its_median():
    lines = [
        json.dumps({"name": "x", "value": value, "better": "higher"}) for value in (1.0, 9.0, 2.0)
    ]
    assert compare.read_results(lines) == {"x": Figure(2.0, "higher")}


def test_an_unknown_direction_is_refused():
    with pytest.raises(ValueError, match="better"):
        compare.read_results([json.dumps({"name": "x", "value": 1.0, "better": "up"})])


def _run(*args):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, check=False
    )


def _results(path, figures):
    path.write_text(
        "".join(
            json.dumps({"name": n, "value": v, "better": b}) + "\n" for n, (v, b) in figures.items()
        )
    )
    return path


def test_the_command_records_a_baseline_then_fails_only_on_a_regression(tmp_path):
    baseline = tmp_path / "baseline.json"
    first = _results(tmp_path / "first.jsonl", {"a": (2.0, "higher"), "b": (1.0, "lower")})
    written = _run(first, "--baseline", baseline, "--write-baseline", "--note", "2-core test")
    assert written.returncode == 0, written.stdout + written.stderr
    stored = json.loads(baseline.read_text())
    assert stored["ratios"] == {
        "a": {"value": 2.0, "better": "higher"},
        "b": {"value": 1.0, "better": "lower"},
    }
    assert stored["machine"]["note"] == "2-core test"
    assert stored["machine"]["recorded_at"].endswith("Z")

    steady = _results(tmp_path / "steady.jsonl", {"a": (1.9, "higher"), "b": (1.1, "lower")})
    assert _run(steady, "--baseline", baseline).returncode == 0

    slower = _results(tmp_path / "slower.jsonl", {"a": (1.9, "higher"), "b": (1.5, "lower")})
    failed = _run(slower, "--baseline", baseline)
    assert failed.returncode == 1
    assert "REGRESSION" in failed.stdout


def test_merge_keeps_ratios_of_benchmarks_not_in_this_run(tmp_path):
    baseline = tmp_path / "baseline.json"
    _run(_results(tmp_path / "a.jsonl", {"a": (2.0, "higher")}), "--baseline", baseline,
         "--write-baseline")  # fmt: skip
    _run(_results(tmp_path / "b.jsonl", {"b": (3.0, "lower")}), "--baseline", baseline,
         "--write-baseline", "--merge")  # fmt: skip
    assert set(json.loads(baseline.read_text())["ratios"]) == {"a", "b"}
    _run(_results(tmp_path / "c.jsonl", {"c": (1.0, "lower")}), "--baseline", baseline,
         "--write-baseline")  # fmt: skip
    assert set(json.loads(baseline.read_text())["ratios"]) == {"c"}


def test_an_empty_run_never_overwrites_the_baseline(tmp_path):
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"ratios": {"a": {"value": 1.0, "better": "higher"}}}))
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert _run(empty, "--baseline", baseline, "--write-baseline").returncode == 2
    assert "a" in json.loads(baseline.read_text())["ratios"]
