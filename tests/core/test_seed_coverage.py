"""docs/seed-coverage.md accounts for every seed item: all 100, in order, each pointing
at modules that exist and at tests that are really defined, or saying why not.

The document is parsed, not trusted: a renamed module or a deleted test breaks it here
rather than silently leaving a claim without proof. The second half of this file runs the
same checks on small made-up documents, to show that each check can fail.
"""

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "seed-coverage.md"
SEED_ITEMS = 100

STATUSES = {"built", "partly built", "reinterpreted", "not built"}
# These need no test, but must say why (a reason in Notes).
WITHOUT_TESTS = {"reinterpreted", "not built"}
# Anything short of "built" must explain itself.
NEEDS_NOTES = {"partly built", "reinterpreted", "not built"}
ALLOWED = ", ".join(sorted(STATUSES))

HEADING = re.compile(r"^### (\d+)\. (.*)$")
FIELD = re.compile(r"^- \*\*(Status|Where|Tests|Checked by|Notes):\*\*(.*)$")
QUOTED = re.compile(r"`([^`]+)`")
NODE = re.compile(r"^(tests/[\w/]+\.py)::(\w+)(?:::(\w+))?$")


@dataclass
class Item:
    number: int
    title: str
    line: int
    fields: dict[str, str] = field(default_factory=dict)

    def quoted(self, name: str) -> list[str]:
        return QUOTED.findall(self.fields.get(name, ""))

    @property
    def status(self) -> str:
        return self.fields.get("Status", "").strip()

    @property
    def notes(self) -> str:
        return self.fields.get("Notes", "").strip()


@dataclass
class Parsed:
    items: list[Item]
    problems: list[str]


def parse(text: str) -> Parsed:
    """Items are `### N. Title` headings followed by one-line `- **Field:** value`
    entries; a `## ` heading ends an item. Any other line inside an item is a problem,
    so a wrapped or misspelt field cannot hide a claim from the checks."""
    items: list[Item] = []
    problems: list[str] = []
    current: Item | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if match := HEADING.match(line):
            current = Item(int(match[1]), match[2].strip(), number)
            items.append(current)
        elif line.startswith("#"):
            current = None
        elif current is None or not line.strip():
            continue
        elif match := FIELD.match(line):
            if match[1] in current.fields:
                problems.append(f"item {current.number}: {match[1]} given twice")
            current.fields[match[1]] = match[2].strip()
        else:
            problems.append(f"item {current.number}, line {number}: not a field: {line!r}")
    return Parsed(items, problems)


def order_problems(items: list[Item], expected: int) -> list[str]:
    numbers = [item.number for item in items]
    problems = []
    for wanted in range(1, expected + 1):
        count = numbers.count(wanted)
        if count != 1:
            problems.append(f"item {wanted} appears {count} times")
    problems += [f"item {n} is not a seed item" for n in numbers if not 1 <= n <= expected]
    if not problems and numbers != sorted(numbers):
        problems.append(f"items out of order: {numbers}")
    return problems


def entry_problems(item: Item) -> list[str]:
    problems = []
    if not item.title:
        problems.append(f"item {item.number}: no title")
    if item.status not in STATUSES:
        problems.append(f"item {item.number}: status {item.status!r} is not one of {ALLOWED}")
    has_tests = bool(item.quoted("Tests"))
    checked_outside = bool(item.quoted("Checked by"))
    if not (has_tests or checked_outside or item.status in WITHOUT_TESTS):
        problems.append(f"item {item.number}: {item.status!r} but no test and no other check")
    if item.status in NEEDS_NOTES and not item.notes:
        problems.append(f"item {item.number}: {item.status!r} without a reason in Notes")
    return problems


def path_problems(item: Item, root: Path) -> list[str]:
    problems = []
    for name in ("Where", "Checked by"):
        for path in item.quoted(name):
            relative = Path(path.rstrip("/"))
            if relative.is_absolute() or ".." in relative.parts:
                problems.append(f"item {item.number}: {path} is not a path inside the project")
            elif not (root / relative).exists():
                problems.append(f"item {item.number}: {path} does not exist")
    return problems


def defined_tests(source: Path) -> set[str]:
    """Test functions and `Class::method` pairs defined at the top level of a module."""
    tree = ast.parse(source.read_text(), filename=str(source))
    names = set()
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    for node in tree.body:
        if isinstance(node, functions):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names |= {f"{node.name}::{m.name}" for m in node.body if isinstance(m, functions)}
    return names


def node_problems(item: Item, root: Path, cache: dict[Path, set[str]]) -> list[str]:
    problems = []
    for node in item.quoted("Tests"):
        match = NODE.match(node)
        if match is None:
            problems.append(f"item {item.number}: {node} is not a test node id (file::test)")
            continue
        source = root / match[1]
        if not source.is_file():
            problems.append(f"item {item.number}: {match[1]} does not exist")
            continue
        if source not in cache:
            cache[source] = defined_tests(source)
        name = match[2] if match[3] is None else f"{match[2]}::{match[3]}"
        if not name.split("::")[-1].startswith("test") or name not in cache[source]:
            problems.append(f"item {item.number}: {match[1]} defines no test {name}")
    return problems


SUMMARY = re.compile(r"^- `(built|partly built|reinterpreted|not built)` \((\d+)\): (.*)$")


def summary_problems(text: str, items: list[Item]) -> list[str]:
    """The summary at the top (`- `status` (count): n, n, ...`) must match the items."""
    problems = []
    stated: dict[str, list[int]] = {}
    for line in text.splitlines():
        if match := SUMMARY.match(line):
            numbers = [int(n) for n in match[3].split(",") if n.strip()]
            stated[match[1]] = numbers
            if len(numbers) != int(match[2]):
                problems.append(f"summary {match[1]!r}: says {match[2]}, lists {len(numbers)}")
    actual = {status: [i.number for i in items if i.status == status] for status in STATUSES}
    problems += [
        f"summary {status!r}: lists {stated.get(status, [])}, items say {actual[status]}"
        for status in sorted(STATUSES)
        if stated.get(status, []) != actual[status]
    ]
    return problems


def all_problems(text: str, root: Path, expected: int) -> list[str]:
    parsed = parse(text)
    problems = parsed.problems + order_problems(parsed.items, expected)
    cache: dict[Path, set[str]] = {}
    for item in parsed.items:
        problems += entry_problems(item)
        problems += path_problems(item, root)
        problems += node_problems(item, root, cache)
    return problems


# --- the document itself ----------------------------------------------------------


@pytest.fixture(scope="module")
def document() -> Parsed:
    return parse(DOC.read_text())


def test_the_document_has_only_well_formed_entries(document):
    assert document.problems == []


def test_all_hundred_seed_items_appear_once_in_order(document):
    assert order_problems(document.items, SEED_ITEMS) == []
    assert [item.number for item in document.items] == list(range(1, SEED_ITEMS + 1))


def test_every_item_has_a_status_and_a_test_or_a_reason(document):
    problems = [p for item in document.items for p in entry_problems(item)]
    assert problems == []


def test_every_referenced_module_path_exists(document):
    problems = [p for item in document.items for p in path_problems(item, ROOT)]
    assert problems == []


def test_the_summary_matches_the_items(document):
    assert summary_problems(DOC.read_text(), document.items) == []


def test_every_referenced_test_is_defined_in_its_file(document):
    cache: dict[Path, set[str]] = {}
    problems = [p for item in document.items for p in node_problems(item, ROOT, cache)]
    assert problems == []
    assert sum(len(item.quoted("Tests")) for item in document.items) > SEED_ITEMS


# --- the checks can fail ----------------------------------------------------------


@pytest.fixture
def project(tmp_path) -> Path:
    """A tiny project: one module and one test file whose comments and strings mention
    a test that is not defined."""
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "thing.py").write_text("VALUE = 1\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_thing.py").write_text(
        "# def test_ghost(): a comment is not a test\n"
        "TEXT = 'def test_ghost(): neither is a string'\n\n"
        "def test_real():\n"
        "    def test_nested():\n"
        "        pass\n\n"
        "async def test_async():\n"
        "    pass\n\n"
        "class TestGroup:\n"
        "    def test_method(self):\n"
        "        pass\n\n"
        "def helper():\n"
        "    pass\n"
    )
    return tmp_path


def entry(number, *, status="built", where="`apps/thing.py`", tests=None, notes=""):
    tests = "`tests/test_thing.py::test_real`" if tests is None else tests
    lines = [f"### {number}. Item {number}", "", f"- **Status:** {status}"]
    if where:
        lines.append(f"- **Where:** {where}")
    if tests:
        lines.append(f"- **Tests:** {tests}")
    if notes:
        lines.append(f"- **Notes:** {notes}")
    return "\n".join(lines) + "\n\n"


def test_a_complete_small_document_passes(project):
    text = "# Seed\n\n## Part\n\n" + entry(1) + entry(2) + entry(3)
    assert all_problems(text, project, expected=3) == []


def test_a_missing_a_duplicated_and_a_foreign_item_are_named(project):
    problems = all_problems(entry(1) + entry(1) + entry(4), project, expected=3)
    assert "item 1 appears 2 times" in problems
    assert "item 2 appears 0 times" in problems
    assert "item 3 appears 0 times" in problems
    assert "item 4 is not a seed item" in problems


def test_items_out_of_order_are_refused(project):
    problems = all_problems(entry(2) + entry(1), project, expected=2)
    assert problems == ["items out of order: [2, 1]"]


def test_a_path_that_does_not_exist_or_leaves_the_project_is_refused(project):
    where = "`apps/thing.py`, `apps/gone.py`, `../outside.py`, `/etc/passwd`"
    problems = all_problems(entry(1, where=where), project, expected=1)
    assert problems == [
        "item 1: apps/gone.py does not exist",
        "item 1: ../outside.py is not a path inside the project",
        "item 1: /etc/passwd is not a path inside the project",
    ]


def test_only_tests_really_defined_at_the_top_of_the_file_count(project):
    tests = ", ".join(
        f"`tests/test_thing.py::{name}`"
        for name in (
            "test_real",
            "test_async",
            "TestGroup::test_method",
            "test_ghost",
            "test_nested",
            "helper",
            "TestGroup::test_other",
        )
    )
    problems = all_problems(entry(1, tests=tests), project, expected=1)
    assert problems == [
        "item 1: tests/test_thing.py defines no test test_ghost",
        "item 1: tests/test_thing.py defines no test test_nested",
        "item 1: tests/test_thing.py defines no test helper",
        "item 1: tests/test_thing.py defines no test TestGroup::test_other",
    ]


def test_a_missing_test_file_and_a_malformed_node_are_refused(project):
    tests = "`tests/test_gone.py::test_real`, `tests/test_thing.py`"
    problems = all_problems(entry(1, tests=tests), project, expected=1)
    assert problems == [
        "item 1: tests/test_gone.py does not exist",
        "item 1: tests/test_thing.py is not a test node id (file::test)",
    ]


def test_an_item_needs_a_test_or_an_explicit_reason(project):
    text = (
        entry(1, tests="")
        + entry(2, status="not built", where="", tests="")
        + entry(3, status="not built", where="", tests="", notes="Nothing exists yet.")
        + entry(4, status="reinterpreted", tests="", notes="Done differently, because.")
        + entry(5, status="partly built")
        + entry(6, status="finished")
    )
    problems = all_problems(text, project, expected=6)
    assert problems == [
        "item 1: 'built' but no test and no other check",
        "item 2: 'not built' without a reason in Notes",
        "item 5: 'partly built' without a reason in Notes",
        f"item 6: status 'finished' is not one of {ALLOWED}",
    ]


def test_a_check_outside_pytest_must_name_a_file_that_exists(project):
    checked = entry(1, tests="").replace(
        "- **Where:**", "- **Checked by:** `apps/thing.py`\n- **Where:**"
    )
    missing = entry(2, tests="").replace(
        "- **Where:**", "- **Checked by:** `deploy/gone.sh`\n- **Where:**"
    )
    problems = all_problems(checked + missing, project, expected=2)
    assert problems == ["item 2: deploy/gone.sh does not exist"]


def test_a_summary_that_disagrees_with_the_items_is_refused():
    items = parse(entry(1) + entry(2, status="not built", notes="Not yet.")).items
    good = "- `built` (1): 1\n- `not built` (1): 2\n"
    assert summary_problems(good, items) == []
    stale = "- `built` (2): 1, 2\n"
    assert summary_problems(stale, items) == [
        "summary 'built': lists [1, 2], items say [1]",
        "summary 'not built': lists [], items say [2]",
    ]
    miscounted = "- `built` (3): 1\n- `not built` (1): 2\n"
    assert summary_problems(miscounted, items) == ["summary 'built': says 3, lists 1"]


def test_a_wrapped_misspelt_or_repeated_field_is_not_silently_ignored(project):
    text = entry(1) + entry(2).replace(
        "- **Tests:** `tests/test_thing.py::test_real`",
        "- **Tests:** `tests/test_thing.py::test_real`,\n  `tests/test_thing.py::test_ghost`\n"
        "- **Test:** `tests/test_thing.py::test_ghost`\n"
        "- **Status:** built",
    )
    problems = all_problems(text, project, expected=2)
    assert problems == [
        "item 2, line 12: not a field: '  `tests/test_thing.py::test_ghost`'",
        "item 2, line 13: not a field: '- **Test:** `tests/test_thing.py::test_ghost`'",
        "item 2: Status given twice",
    ]
