"""Compare a benchmark run's ratios with the stored baseline (bench/baseline.json).

A run is the JSON-lines file that ``report.ratio`` appends to ($BENCH_RESULTS). Each
ratio is judged in its own direction (``better``): a move of more than the tolerance
(20%) the worse way is a regression, and any regression makes the exit status 1.
A name with no baseline is "new", one in the baseline that this run did not report is
"missing"; neither fails the run (a partial run is allowed).

    .venv/bin/python bench/compare.py RESULTS [--baseline bench/baseline.json]
    .venv/bin/python bench/compare.py RESULTS --write-baseline [--merge] [--note TEXT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HIGHER, LOWER = "higher", "lower"
TOLERANCE = 0.20
DEFAULT_BASELINE = Path(__file__).resolve().parent / "baseline.json"

OK, IMPROVED, REGRESSION, NEW, MISSING = "ok", "improved", "REGRESSION", "new", "missing"


@dataclass(frozen=True)
class Figure:
    value: float
    better: str


@dataclass(frozen=True)
class Row:
    name: str
    baseline: float | None
    now: float | None
    change: float | None  # now / baseline - 1
    verdict: str


def read_results(lines) -> dict[str, Figure]:
    """Ratios from JSON lines; a name reported more than once keeps its median."""
    values: dict[str, list[float]] = {}
    directions: dict[str, str] = {}
    for line in lines:
        if not line.strip():
            continue
        record = json.loads(line)
        name, better = record["name"], record["better"]
        if better not in (HIGHER, LOWER):
            raise ValueError(f"{name}: better must be {HIGHER!r} or {LOWER!r}, not {better!r}")
        values.setdefault(name, []).append(float(record["value"]))
        directions[name] = better
    return {name: Figure(statistics.median(v), directions[name]) for name, v in values.items()}


def read_baseline(data: dict) -> dict[str, Figure]:
    return {
        name: Figure(float(entry["value"]), entry["better"])
        for name, entry in data.get("ratios", {}).items()
    }


def judge(baseline: Figure, now: Figure, tolerance: float = TOLERANCE) -> tuple[float, str]:
    """The relative change and its verdict; assumes the same direction and baseline > 0."""
    change = now.value / baseline.value - 1
    worse = -change if now.better == HIGHER else change
    if worse > tolerance:
        return change, REGRESSION
    if -worse > tolerance:
        return change, IMPROVED
    return change, OK


def compare(
    baseline: dict[str, Figure], results: dict[str, Figure], tolerance: float = TOLERANCE
) -> list[Row]:
    rows = []
    for name in sorted(results):
        now, base = results[name], baseline.get(name)
        # A changed direction or a non-positive baseline cannot be compared: start over.
        if base is None or base.better != now.better or base.value <= 0:
            rows.append(Row(name, None, now.value, None, NEW))
            continue
        change, verdict = judge(base, now, tolerance)
        rows.append(Row(name, base.value, now.value, change, verdict))
    for name in sorted(set(baseline) - set(results)):
        rows.append(Row(name, baseline[name].value, None, None, MISSING))
    return rows


def has_regression(rows: list[Row]) -> bool:
    return any(row.verdict == REGRESSION for row in rows)


def format_table(rows: list[Row], tolerance: float = TOLERANCE) -> str:
    def number(value):
        return "-" if value is None else f"{value:.4f}"

    width = max([len("name"), *(len(row.name) for row in rows)])
    lines = [f"{'name':<{width}}  {'baseline':>10}  {'now':>10}  {'change':>8}  verdict"]
    for row in rows:
        change = "-" if row.change is None else f"{row.change:+.1%}"
        lines.append(
            f"{row.name:<{width}}  {number(row.baseline):>10}  {number(row.now):>10}  "
            f"{change:>8}  {row.verdict}"
        )
    regressions = sum(row.verdict == REGRESSION for row in rows)
    lines.append(
        f"{len(rows)} ratios, {regressions} regression(s) "
        f"(a move of more than {tolerance:.0%} in the worse direction)"
    )
    return "\n".join(lines)


def machine_note(note: str = "") -> dict:
    """Where and when a baseline was recorded, so its figures can be read in context."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    return {
        "recorded_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host": platform.node(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "note": note,
    }


def baseline_document(
    results: dict[str, Figure], *, note: str, previous: dict | None = None
) -> dict:
    """A new baseline file; with ``previous`` its ratios not in this run are kept."""
    ratios = dict(previous.get("ratios", {})) if previous else {}
    for name, figure in results.items():
        ratios[name] = {"value": round(figure.value, 6), "better": figure.better}
    return {"machine": machine_note(note), "ratios": dict(sorted(ratios.items()))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="the run's JSON lines ($BENCH_RESULTS)")
    parser.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE)
    parser.add_argument("--tolerance", type=float, default=TOLERANCE)
    parser.add_argument("--write-baseline", action="store_true", help="record this run")
    parser.add_argument("--merge", action="store_true", help="keep ratios this run lacks")
    parser.add_argument("--note", default="", help="with --write-baseline: the conditions")
    args = parser.parse_args(argv)

    with args.results.open(encoding="utf-8") as handle:
        results = read_results(handle)
    previous = json.loads(args.baseline.read_text()) if args.baseline.exists() else {}
    if args.write_baseline:
        if not results:
            print(f"ERROR: {args.results} holds no ratios; baseline left unchanged")
            return 2
        document = baseline_document(
            results, note=args.note, previous=previous if args.merge else None
        )
        args.baseline.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        print(f"{len(document['ratios'])} ratios written to {args.baseline}")
        return 0
    rows = compare(read_baseline(previous), results, args.tolerance)
    print(format_table(rows, args.tolerance))
    return 1 if has_regression(rows) else 0


if __name__ == "__main__":
    sys.exit(main())
