"""Offline dependency audit: the locked requirements against a local copy of OSV advisories.

`pip-audit` needs the PyPI JSON API or OSV's online service; neither answers from the
development machine. This reads the same data from disk instead: a directory of OSV
advisories (JSON or YAML, e.g. a checkout of github.com/pypa/advisory-database) and
the pins of requirements/*.txt.

    .venv/bin/python deploy/local/audit_offline.py /path/to/advisory-database/vulns
    .venv/bin/python deploy/local/audit_offline.py ADVISORIES requirements/base.txt \
        --ignore PYSEC-2024-1   # explained in docs/security.md

Exit status: 0 when no unexplained finding, 1 when there is at least one, 2 on bad input.
The advisory data is never committed: it is fetched for a run and passed by path.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

DEFAULT_REQUIREMENTS = (
    "requirements/base.txt",
    "requirements/dev.txt",
    "requirements/production.txt",
)
ADVISORY_SUFFIXES = (".json", ".yaml", ".yml")
# `name==1.2.3` or `name[extra]==1.2.3`, optionally followed by markers or hashes.
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;\\#]+)")
# At the same version, an introduction is applied before the end of a range.
EVENT_ORDER = {"introduced": 0, "fixed": 1, "last_affected": 2}


@dataclass(frozen=True)
class Pin:
    name: str  # canonical (PEP 503) name
    version: str
    source: str  # the requirements file it comes from


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    advisory_id: str
    aliases: tuple[str, ...]
    fixed_versions: tuple[str, ...]
    sources: tuple[str, ...]


def read_pins(paths: list[Path]) -> list[Pin]:
    """Every `name==version` line of the given pip-compile outputs."""
    pins = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = PIN.match(line)
            if match:
                pins.append(Pin(canonicalize_name(match[1]), match[2], str(path)))
    return pins


def load_advisories(directory: Path) -> list[dict]:
    """Every OSV document under ``directory`` (recursively), withdrawn ones left out."""
    advisories = []
    for path in sorted(directory.rglob("*")):
        if path.suffix not in ADVISORY_SUFFIXES or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        if isinstance(document, dict) and document.get("id") and not document.get("withdrawn"):
            advisories.append(document)
    return advisories


def _parse(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


def in_range(version: Version, events: list[dict]) -> bool:
    """Whether ``version`` falls in one OSV ECOSYSTEM range (its events in any order).

    Walks the events in version order: an `introduced` at or below the version opens
    the range, a `fixed` at or below it closes it, a `last_affected` strictly below it
    closes it. Events whose version cannot be parsed are skipped.
    """
    keyed = []
    for event in events:
        for kind, raw in event.items():
            if kind not in EVENT_ORDER:
                continue  # `limit` only applies to GIT ranges
            bound = Version("0") if kind == "introduced" and str(raw) == "0" else _parse(str(raw))
            if bound is not None:
                keyed.append((bound, EVENT_ORDER[kind], kind))
    affected = False
    for bound, _order, kind in sorted(keyed):
        if version < bound:
            break
        if kind == "introduced":
            affected = True
        elif kind == "fixed" or version > bound:  # last_affected includes its own version
            affected = False
    return affected


def affects(entry: dict, version: str) -> bool:
    """Whether one `affected` entry of an advisory covers ``version``."""
    parsed = _parse(version)
    for listed in entry.get("versions") or []:
        listed_parsed = _parse(str(listed))
        if str(listed) == version or (parsed is not None and listed_parsed == parsed):
            return True
    if parsed is None:
        return False
    return any(
        in_range(parsed, range_.get("events") or [])
        for range_ in entry.get("ranges") or []
        if range_.get("type") in ("ECOSYSTEM", "SEMVER")
    )


def fixed_versions(entry: dict) -> tuple[str, ...]:
    """The releases an advisory names as fixes, lowest first."""
    fixes = {
        str(event["fixed"])
        for range_ in entry.get("ranges") or []
        for event in range_.get("events") or []
        if "fixed" in event
    }
    return tuple(
        sorted(fixes, key=lambda raw: (_parse(raw) is None, _parse(raw) or Version("0"), raw))
    )


def audit(pins: list[Pin], advisories: list[dict]) -> list[Finding]:
    """One finding per (package, pinned version, advisory), whichever files pin it."""
    by_package: dict[str, list[tuple[dict, dict]]] = {}
    for advisory in advisories:
        for entry in advisory.get("affected") or []:
            package = entry.get("package") or {}
            if package.get("ecosystem") == "PyPI" and package.get("name"):
                by_package.setdefault(canonicalize_name(package["name"]), []).append(
                    (advisory, entry)
                )

    sources: dict[tuple[str, str], list[str]] = {}
    for pin in pins:
        sources.setdefault((pin.name, pin.version), []).append(pin.source)

    findings = []
    for (name, version), files in sorted(sources.items()):
        for advisory, entry in by_package.get(name, []):
            if affects(entry, version):
                findings.append(
                    Finding(
                        package=name,
                        version=version,
                        advisory_id=advisory["id"],
                        aliases=tuple(advisory.get("aliases") or ()),
                        fixed_versions=fixed_versions(entry),
                        sources=tuple(files),
                    )
                )
    return findings


def format_finding(finding: Finding) -> str:
    aliases = f" ({', '.join(finding.aliases)})" if finding.aliases else ""
    fixed = ", ".join(finding.fixed_versions) or "no fixed release"
    return (
        f"{finding.package}=={finding.version}  {finding.advisory_id}{aliases}  "
        f"fixed in: {fixed}  [{', '.join(finding.sources)}]"
    )


def _say(line: str, stream=None) -> None:
    (stream or sys.stdout).write(line + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("advisories", type=Path, help="directory of OSV advisories (JSON or YAML)")
    parser.add_argument("requirements", nargs="*", type=Path, help="pinned requirement files")
    parser.add_argument(
        "--ignore", action="append", default=[], metavar="ID", help="an explained advisory id"
    )
    args = parser.parse_args(argv)

    if not args.advisories.is_dir():
        _say(f"error: {args.advisories} is not a directory of OSV advisories", sys.stderr)
        return 2
    paths = args.requirements or [Path(name) for name in DEFAULT_REQUIREMENTS]
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        _say(f"error: no such requirements file: {', '.join(missing)}", sys.stderr)
        return 2

    pins = read_pins(paths)
    advisories = load_advisories(args.advisories)
    ignored = set(args.ignore)
    findings = audit(pins, advisories)
    open_findings = [f for f in findings if not ignored & {f.advisory_id, *f.aliases}]
    for finding in findings:
        marker = "ignored " if finding not in open_findings else ""
        _say(marker + format_finding(finding))
    checked = len({(pin.name, pin.version) for pin in pins})
    _say(
        f"{checked} pins checked against {len(advisories)} advisories: "
        f"{len(open_findings)} finding(s), {len(findings) - len(open_findings)} ignored"
    )
    return 1 if open_findings else 0


if __name__ == "__main__":
    sys.exit(main())
