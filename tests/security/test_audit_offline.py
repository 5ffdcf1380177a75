"""The offline dependency audit (deploy/local/audit_offline.py) against small OSV files.

Each advisory below is written in the test, in the two shapes the real databases use
(PyPA's YAML, OSV's JSON), so every range rule is checked against a known answer.
"""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "local" / "audit_offline.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("audit_offline", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


audit_offline = _load_script()

TWO_BRANCHES_YAML = """\
id: PYSEC-2099-1
aliases:
- CVE-2099-0001
details: Two maintained branches, each fixed in its own release.
affected:
- package:
    ecosystem: PyPI
    name: Demo_Package
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: "5.0"
    - fixed: 5.0.8
    - introduced: "4.2"
    - fixed: 4.2.15
"""

LAST_AFFECTED_JSON = {
    "id": "GHSA-aaaa-bbbb-cccc",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "other-lib"},
            "ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "1.4.2"}]}
            ],
        }
    ],
}

EXPLICIT_VERSIONS_JSON = {
    "id": "PYSEC-2099-2",
    "affected": [
        {"package": {"ecosystem": "PyPI", "name": "listed"}, "versions": ["2.0", "2.0.1"]}
    ],
}

OTHER_ECOSYSTEM_JSON = {
    "id": "GHSA-npm-only",
    "affected": [
        {
            "package": {"ecosystem": "npm", "name": "demo-package"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}],
        }
    ],
}

WITHDRAWN_JSON = {
    "id": "PYSEC-2099-3",
    "withdrawn": "2099-01-01T00:00:00Z",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "other-lib"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
        }
    ],
}


@pytest.fixture
def advisories(tmp_path):
    root = tmp_path / "vulns"
    (root / "demo-package").mkdir(parents=True)
    (root / "demo-package" / "PYSEC-2099-1.yaml").write_text(TWO_BRANCHES_YAML)
    (root / "other-lib").mkdir()
    (root / "other-lib" / "GHSA-aaaa-bbbb-cccc.json").write_text(json.dumps(LAST_AFFECTED_JSON))
    (root / "other-lib" / "PYSEC-2099-3.json").write_text(json.dumps(WITHDRAWN_JSON))
    (root / "listed.json").write_text(json.dumps(EXPLICIT_VERSIONS_JSON))
    (root / "npm.json").write_text(json.dumps(OTHER_ECOSYSTEM_JSON))
    (root / "README.md").write_text("not an advisory")
    return root


def _requirements(tmp_path, name, *lines):
    path = tmp_path / name
    path.write_text("\n".join(["# pinned by pip-compile", *lines, ""]))
    return path


@pytest.mark.parametrize(
    ("version", "affected"),
    [
        ("4.1.9", False),  # before either branch
        ("4.2", True),  # an introduction is inclusive
        ("4.2.14", True),
        ("4.2.15", False),  # a fix is exclusive
        ("4.2.99", False),
        ("5.0", True),
        ("5.0.7", True),
        ("5.0.8", False),
        ("5.2.1", False),
    ],
)
def test_a_range_with_two_branches_is_read_in_version_order(version, affected):
    events = [{"introduced": "5.0"}, {"fixed": "5.0.8"}, {"introduced": "4.2"}, {"fixed": "4.2.15"}]

    assert audit_offline.in_range(Version(version), events) is affected


@pytest.mark.parametrize(
    ("version", "affected"), [("0.1", True), ("1.4.2", True), ("1.4.3", False)]
)
def test_last_affected_is_inclusive(version, affected):
    events = [{"introduced": "0"}, {"last_affected": "1.4.2"}]

    assert audit_offline.in_range(Version(version), events) is affected


def test_an_open_range_affects_every_later_release():
    assert audit_offline.in_range(Version("99.0"), [{"introduced": "1.0"}])
    assert not audit_offline.in_range(Version("0.9"), [{"introduced": "1.0"}])


def test_pins_are_read_with_extras_hashes_and_names_normalised(tmp_path):
    path = _requirements(
        tmp_path,
        "base.txt",
        "Demo_Package[extra]==4.2.3 \\",
        "    --hash=sha256:0000",
        "    # via -r base.in",
        "other.lib==1.0 ; python_version >= '3.11'",
        "-e ./local-checkout",
        "unpinned>=1",
    )

    pins = audit_offline.read_pins([path])

    assert [(pin.name, pin.version) for pin in pins] == [
        ("demo-package", "4.2.3"),
        ("other-lib", "1.0"),
    ]


def test_the_audit_reports_each_affected_pin_once_with_its_fixes(tmp_path, advisories):
    base = _requirements(
        tmp_path, "base.txt", "demo-package==4.2.3", "other-lib==1.4.3", "listed==2.0.1"
    )
    dev = _requirements(
        tmp_path, "dev.txt", "demo-package==4.2.3", "other-lib==1.4.2", "listed==2.0.2"
    )

    findings = audit_offline.audit(
        audit_offline.read_pins([base, dev]), audit_offline.load_advisories(advisories)
    )

    summary = {(f.package, f.version, f.advisory_id): f for f in findings}
    assert set(summary) == {
        ("demo-package", "4.2.3", "PYSEC-2099-1"),
        ("other-lib", "1.4.2", "GHSA-aaaa-bbbb-cccc"),
        ("listed", "2.0.1", "PYSEC-2099-2"),
    }
    demo = summary["demo-package", "4.2.3", "PYSEC-2099-1"]
    assert demo.fixed_versions == ("4.2.15", "5.0.8")
    assert demo.aliases == ("CVE-2099-0001",)
    assert demo.sources == (str(base), str(dev))
    assert summary["other-lib", "1.4.2", "GHSA-aaaa-bbbb-cccc"].fixed_versions == ()


def test_withdrawn_and_foreign_advisories_are_left_out(advisories):
    ids = {advisory["id"] for advisory in audit_offline.load_advisories(advisories)}

    assert ids == {"PYSEC-2099-1", "GHSA-aaaa-bbbb-cccc", "PYSEC-2099-2", "GHSA-npm-only"}
    pins = [audit_offline.Pin("demo-package", "1.0", "x.txt")]
    assert audit_offline.audit(pins, audit_offline.load_advisories(advisories)) == []


def _run(*args):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_the_command_fails_on_a_finding_and_prints_it(tmp_path, advisories):
    requirements = _requirements(tmp_path, "base.txt", "demo-package==5.0.1", "listed==3.0")

    result = _run(advisories, requirements)

    assert result.returncode == 1, result.stderr
    assert (
        "demo-package==5.0.1  PYSEC-2099-1 (CVE-2099-0001)  fixed in: 4.2.15, 5.0.8"
        in result.stdout
    )
    assert "2 pins checked against 4 advisories: 1 finding(s), 0 ignored" in result.stdout


def test_an_explained_advisory_can_be_ignored_by_id_or_alias(tmp_path, advisories):
    requirements = _requirements(tmp_path, "base.txt", "demo-package==5.0.1")

    by_alias = _run(advisories, requirements, "--ignore", "CVE-2099-0001")

    assert by_alias.returncode == 0, by_alias.stdout
    assert by_alias.stdout.startswith("ignored demo-package==5.0.1  PYSEC-2099-1")
    assert "0 finding(s), 1 ignored" in by_alias.stdout


def test_the_command_passes_when_no_pin_is_affected(tmp_path, advisories):
    requirements = _requirements(tmp_path, "base.txt", "demo-package==5.0.8")

    result = _run(advisories, requirements)

    assert result.returncode == 0
    assert "0 finding(s)" in result.stdout


def test_bad_paths_are_named(tmp_path, advisories):
    no_directory = _run(tmp_path / "missing", tmp_path / "base.txt")
    no_requirements = _run(advisories, tmp_path / "base.txt")

    assert no_directory.returncode == 2
    assert "is not a directory of OSV advisories" in no_directory.stderr
    assert no_requirements.returncode == 2
    assert f"no such requirements file: {tmp_path / 'base.txt'}" in no_requirements.stderr
