"""One vocabulary: states, clock kinds and roles are spelled in mas/workflows/ (and config/) only.

Anywhere else a spelled-out name is a second definition that a change to the flow forgets:
a new state whose clock never escalates, a renamed role the menu still checks for. Code and
templates use the workflow's data (`workflow.state_label(...)`, `ctx.clock(kind)`, `Role.X`).
mas/migrations/ is history (its table names) and is not scanned.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import mas
from mas.workflows import WORKFLOW, Recipient, Role
from mas.workflows.roles import SYSTEM

MAS_DIR = Path(mas.__file__).resolve().parent
NAMES = ({s.name for s in WORKFLOW.states} | {c.name for c in WORKFLOW.clocks} | {r.value for r in Role}
         | {r.value for r in Recipient} | {SYSTEM})
QUOTED = re.compile(r"""(['"])([a-z_]+)\1""")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def names_in_python(source: str) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    docs = _docstrings(tree)
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in NAMES
            and id(node) not in docs]


def names_in_template(source: str) -> list[tuple[int, str]]:
    return [(number, match.group(2)) for number, line in enumerate(source.splitlines(), 1)
            for match in QUOTED.finditer(line) if match.group(2) in NAMES]


def _scanned(pattern: str):
    for path in sorted(MAS_DIR.rglob(pattern)):
        parts = path.relative_to(MAS_DIR).parts
        if parts[0] not in ("workflows", "migrations"):
            yield path


def test_the_scan_finds_a_spelled_out_name():  # the positive control: the scan can fail
    assert names_in_python('if case.state == "afgesloten":\n    pass\n') == [(1, "afgesloten")]
    assert names_in_python('x = {"role": "coordinator"}') == [(1, "coordinator")]
    assert names_in_python('def f():\n    """afgesloten"""\n') == []  # a docstring is prose
    assert names_in_template("{% if me.actor.role == 'partner' %}") == [(1, "partner")]
    assert names_in_template('<option value="thuiszitterspact">') == [(1, "thuiszitterspact")]


def test_no_module_outside_workflows_names_a_state_a_clock_kind_or_a_role():
    found = {f"{path.relative_to(MAS_DIR)}:{line}: {name}"
             for path in _scanned("*.py") for line, name in names_in_python(path.read_text())}
    assert not found, sorted(found)


def test_no_template_names_a_state_a_clock_kind_or_a_role():
    found = {f"{path.relative_to(MAS_DIR)}:{line}: {name}"
             for suffix in ("*.html", "*.txt") for path in _scanned(suffix)
             for line, name in names_in_template(path.read_text())}
    assert not found, sorted(found)


def test_the_names_scanned_for_are_the_workflows_own():
    assert {"signaal", "afgesloten", "thuiszitterspact", "lrv", "step", "doorzetten", "casusregisseur",
            "coordinator", "partner", "admin"} <= NAMES
