"""The coverage gate `make test` ends with: line coverage of apps/ per package, checked
against the thresholds below, with the files that drag each package down named.

    .venv/bin/python deploy/local/coverage_gate.py            # reads .coverage
    .venv/bin/python deploy/local/coverage_gate.py --data-file /tmp/run/.coverage

The data file is the one pytest-cov wrote (both test processes, subprocesses combined).
Exit status: 0 when every threshold holds, 1 when one does not, 2 when there is no data.
Every Python file under apps/ counts, imported or not (migrations excepted, see
[tool.coverage.run] in pyproject.toml): a module no test imports is 0% covered.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import coverage

ROOT = Path(__file__).resolve().parents[2]
APPS = "apps/"
APPS_MINIMUM = 85.0
STRICT_MINIMUM = 95.0
WORST_FILES_SHOWN = 5

# The pure engines (docs/engines.md: no Django, no I/O, numbers in and numbers out)
# and the exchange gateway (every external call, rate limiter to signed request).
# A prefix ending in "/" is a package, anything else one module.
STRICT_GROUPS: dict[str, tuple[str, ...]] = {
    "risk engine": ("apps/risk/engine/",),
    "strategy engine and indicators": ("apps/strategies/engine/",),
    "backtest engine": ("apps/backtest/engine/",),
    "exchange gateway": (
        "apps/exchange/gateway.py",
        "apps/exchange/client.py",
        "apps/exchange/signing.py",
        "apps/exchange/limiter.py",
        "apps/exchange/weights.py",
        "apps/exchange/breaker.py",
        "apps/exchange/timesync.py",
        "apps/exchange/errors.py",
        "apps/exchange/filters.py",
        "apps/exchange/exchange_info.py",
        "apps/exchange/environments.py",
    ),
}


@dataclass(frozen=True)
class FileCoverage:
    path: str  # relative to the project root, with "/" separators
    statements: int
    missed: int

    @property
    def covered(self) -> int:
        return self.statements - self.missed


@dataclass
class Tally:
    name: str
    minimum: float | None = None
    files: list[FileCoverage] = field(default_factory=list)

    @property
    def statements(self) -> int:
        return sum(f.statements for f in self.files)

    @property
    def missed(self) -> int:
        return sum(f.missed for f in self.files)

    @property
    def percent(self) -> float:
        if not self.statements:
            return 100.0
        return 100.0 * (self.statements - self.missed) / self.statements

    @property
    def passed(self) -> bool:
        return self.minimum is None or self.percent >= self.minimum

    def worst_files(self, count: int = WORST_FILES_SHOWN) -> list[FileCoverage]:
        """The files whose missed lines cost the package the most."""
        missing = [f for f in self.files if f.missed]
        return sorted(missing, key=lambda f: (-f.missed, f.path))[:count]


def matches(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path.startswith(p) if p.endswith("/") else path == p for p in prefixes)


def package_of(path: str) -> str:
    """apps/<app>/ of a file: the row of the per-package table it counts in."""
    parts = path.split("/")
    return "/".join(parts[:2]) + "/" if len(parts) > 2 else path


def tally(
    files: list[FileCoverage],
    *,
    apps_minimum: float = APPS_MINIMUM,
    strict_minimum: float = STRICT_MINIMUM,
    strict_groups: dict[str, tuple[str, ...]] = STRICT_GROUPS,
) -> tuple[list[Tally], list[Tally], Tally]:
    """(per-app rows, strict groups, the apps/ total) for the measured files."""
    apps = Tally(APPS, apps_minimum, [f for f in files if f.path.startswith(APPS)])
    packages: dict[str, Tally] = {}
    for item in apps.files:
        packages.setdefault(package_of(item.path), Tally(package_of(item.path))).files.append(item)
    groups = [
        Tally(name, strict_minimum, [f for f in apps.files if matches(f.path, prefixes)])
        for name, prefixes in strict_groups.items()
    ]
    return sorted(packages.values(), key=lambda t: t.name), groups, apps


def measure(data_file: Path) -> list[FileCoverage]:
    """Statements and missed lines of every Python file under apps/, from coverage data."""
    cov = coverage.Coverage(data_file=str(data_file), config_file=str(ROOT / "pyproject.toml"))
    cov.load()
    omitted = cov.config.run_omit or []
    paths = {Path(p).resolve() for p in cov.get_data().measured_files()}
    # Files no process imported are absent from the data; they count as unrun.
    paths |= {p.resolve() for p in (ROOT / "apps").rglob("*.py")}
    result = []
    for path in sorted(paths):
        try:
            relative = path.relative_to(ROOT).as_posix()
        except ValueError:
            continue
        if not relative.startswith(APPS) or any(fnmatch.fnmatch(relative, o) for o in omitted):
            continue
        _, statements, _, missing, _ = cov.analysis2(str(path))
        if statements:
            result.append(FileCoverage(relative, len(statements), len(missing)))
    return result


def render(packages: list[Tally], groups: list[Tally], total: Tally) -> str:
    def row(t: Tally) -> str:
        minimum = f"{t.minimum:.0f}%" if t.minimum is not None else ""
        verdict = "" if t.minimum is None else ("ok" if t.passed else "FAIL")
        return (
            f"{t.name:<34} {t.statements:>7} {t.missed:>7} {t.percent:>7.1f}% "
            f"{minimum:>5}  {verdict}"
        ).rstrip()

    header = f"{'package':<34} {'lines':>7} {'missed':>7} {'cover':>8} {'gate':>5}"
    lines = ["Line coverage per package", header, "-" * len(header)]
    lines += [row(t) for t in packages]
    lines += ["-" * len(header), row(total), "", "Pure engines and the exchange gateway", header]
    lines += ["-" * len(header)] + [row(t) for t in groups]
    for t in [total, *groups]:
        if t.passed:
            continue
        lines += ["", f"{t.name} is below {t.minimum:.0f}%; the files that cost it most:"]
        lines += [
            f"  {f.path:<60} {f.missed:>5} missed of {f.statements:>5}"
            f" ({100.0 * f.covered / f.statements:.1f}%)"
            for f in t.worst_files()
        ]
    return "\n".join(lines)


def say(text: str) -> None:
    sys.stdout.write(text + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-file",
        type=Path,
        default=Path(os.environ.get("COVERAGE_FILE", ROOT / ".coverage")),
        help="the combined coverage data (default: $COVERAGE_FILE or .coverage)",
    )
    args = parser.parse_args(argv)
    if not args.data_file.exists():
        say(f"ERROR: no coverage data at {args.data_file}. Fix: run the suite with --cov.")
        return 2
    packages, groups, total = tally(measure(args.data_file))
    say(render(packages, groups, total))
    failed = [t.name for t in [total, *groups] if not t.passed]
    if failed:
        say(f"\nCoverage gate FAILED: {', '.join(failed)}")
        return 1
    say("\nCoverage gate passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
